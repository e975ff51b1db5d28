import { EngramError } from "@engram/core";

/** The public Bot API. */
export const TELEGRAM_DEFAULT_API_BASE_URL = "https://api.telegram.org";

/**
 * A Bot API call that failed: a non-2xx answer, `ok: false`, a body that is not the API's JSON, or
 * no answer at all (`status` 0). Code `PLATFORM_FAILED`. The message names the method, never the URL:
 * the URL holds the bot token.
 */
export class TelegramApiError extends EngramError {
  readonly method: string;
  /** HTTP status; 0 when the request did not get an answer (network error, timeout). */
  readonly status: number;
  /** The API's `error_code`, when it sent one. */
  readonly errorCode: number | undefined;
  /** Seconds the API asked to wait (`parameters.retry_after` of a 429). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    method: string,
    props: { status: number; errorCode?: number; description: string; retryAfterSeconds?: number },
    options: { cause?: unknown } = {},
  ) {
    super(
      "PLATFORM_FAILED",
      `Telegram ${method} failed (${props.status || "no answer"}): ${props.description}`,
      {
        ...options,
        details: {
          platform: "telegram",
          method,
          status: props.status,
          ...(props.errorCode === undefined ? {} : { errorCode: props.errorCode }),
          ...(props.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: props.retryAfterSeconds }),
        },
      },
    );
    this.name = "TelegramApiError";
    this.method = method;
    this.status = props.status;
    this.errorCode = props.errorCode;
    this.retryAfterSeconds = props.retryAfterSeconds;
  }
}

export interface TelegramUser {
  readonly id: number;
  readonly is_bot: boolean;
  readonly first_name: string;
  readonly username?: string;
}

/** The fields of a sent `Message` the gateway reads. */
export interface TelegramSentMessage {
  readonly message_id: number;
  readonly date: number;
  readonly chat: { readonly id: number; readonly type: string };
  readonly text?: string;
  readonly message_thread_id?: number;
}

export interface SendMessageParams {
  readonly chat_id: number | string;
  readonly text: string;
  readonly message_thread_id?: number;
  readonly reply_to_message_id?: number;
  /** Send even when the quoted message was deleted meanwhile (otherwise the API answers 400). */
  readonly allow_sending_without_reply?: boolean;
}

export interface GetUpdatesParams {
  readonly offset?: number;
  /** Long-poll wait in seconds (0: answer at once). */
  readonly timeout?: number;
  readonly limit?: number;
  readonly allowed_updates?: readonly string[];
}

interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface TelegramBotApiProps {
  readonly token: string;
  /** Default {@link TELEGRAM_DEFAULT_API_BASE_URL}; a stand-in server in tests. */
  readonly baseUrl?: string;
  /** Attempts of one call that the API answers 429 (default 4: the first try and three retries). */
  readonly maxAttempts?: number;
  /** Longest `retry_after` honoured, in seconds (default 30); a longer one fails the call at once. */
  readonly maxRetryAfterSeconds?: number;
  /** Per-request timeout in ms (default 30000). */
  readonly requestTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface ApiAnswer {
  ok?: unknown;
  result?: unknown;
  error_code?: unknown;
  description?: unknown;
  parameters?: { retry_after?: unknown };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A small Bot API client (`POST {baseUrl}/bot{token}/{method}` with a JSON body). Only a 429 is
 * retried, after its `retry_after`: the API guarantees a throttled call did nothing, whereas a 5xx or
 * a lost connection may have delivered the message already, and a retry could post it twice.
 */
export class TelegramBotApi {
  readonly #base: string;
  readonly #maxAttempts: number;
  readonly #maxRetryAfterSeconds: number;
  readonly #timeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(props: TelegramBotApiProps) {
    const baseUrl = (props.baseUrl ?? TELEGRAM_DEFAULT_API_BASE_URL).replace(/\/+$/, "");
    this.#base = `${baseUrl}/bot${props.token}`;
    this.#maxAttempts = props.maxAttempts ?? 4;
    this.#maxRetryAfterSeconds = props.maxRetryAfterSeconds ?? 30;
    this.#timeoutMs = props.requestTimeoutMs ?? 30_000;
    this.#sleep = props.sleep ?? defaultSleep;
  }

  /**
   * Long polling: the updates from `offset` on, waiting up to `timeout` seconds for one. Asking with an
   * `offset` confirms every update before it, which Telegram then forgets. `signal` aborts the wait.
   */
  getUpdates(params: GetUpdatesParams, signal?: AbortSignal): Promise<unknown[]> {
    return this.call<unknown[]>("getUpdates", params, {
      // The server holds the request for `timeout` seconds: the client's own timeout must outlast it.
      timeoutMs: this.#timeoutMs + (params.timeout ?? 0) * 1000,
      ...(signal ? { signal } : {}),
    });
  }

  /** Removes the webhook (Telegram refuses `getUpdates` while one is set); pending updates are kept. */
  deleteWebhook(): Promise<boolean> {
    return this.call<boolean>("deleteWebhook", { drop_pending_updates: false });
  }

  getMe(): Promise<TelegramUser> {
    return this.call<TelegramUser>("getMe", {});
  }

  sendMessage(params: SendMessageParams): Promise<TelegramSentMessage> {
    return this.call<TelegramSentMessage>("sendMessage", params);
  }

  /** @throws TelegramApiError when the call fails after the allowed 429 retries. */
  async call<T>(method: string, params: object, options: CallOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#callOnce<T>(method, params, options);
      } catch (error) {
        const retryAfter = error instanceof TelegramApiError ? error.retryAfterSeconds : undefined;
        const throttled = error instanceof TelegramApiError && error.status === 429;
        if (!throttled || attempt >= this.#maxAttempts) throw error;
        if (retryAfter !== undefined && retryAfter > this.#maxRetryAfterSeconds) throw error;
        await this.#sleep(Math.max(0, retryAfter ?? 1) * 1000);
      }
    }
  }

  async #callOnce<T>(method: string, params: object, options: CallOptions): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
        signal: options.signal
          ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs)])
          : AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs),
      });
    } catch (error) {
      // The fetch error names the URL (and so the token) in some runtimes: keep only its kind.
      const kind = error instanceof Error ? error.name : "Error";
      throw new TelegramApiError(method, { status: 0, description: `request failed (${kind})` });
    }
    let answer: ApiAnswer;
    try {
      answer = (await response.json()) as ApiAnswer;
    } catch {
      throw new TelegramApiError(method, { status: response.status, description: "the answer is not JSON" });
    }
    if (response.ok && answer?.ok === true) return answer.result as T;
    const retryAfter = answer?.parameters?.retry_after;
    throw new TelegramApiError(method, {
      status: response.status,
      description: typeof answer?.description === "string" ? answer.description : "ok is not true",
      ...(typeof answer?.error_code === "number" ? { errorCode: answer.error_code } : {}),
      ...(typeof retryAfter === "number" ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
}
