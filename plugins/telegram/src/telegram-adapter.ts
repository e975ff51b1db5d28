import { createHash, timingSafeEqual } from "node:crypto";
import { EngramError, InvalidArgumentError, type Logger, type SessionSource } from "@engram/core";
import {
  failureReply,
  type InboundHandler,
  isRefusal,
  type PlatformAdapter,
  replyText,
  splitMessageText,
} from "@engram/sessions";
import type { FastifyInstance } from "fastify";
import type { TelegramOffsetStore } from "./db/telegram-offset-store.js";
import { type SendMessageParams, TelegramBotApi, type TelegramBotApiProps } from "./telegram-bot-api.js";
import {
  parseTelegramUpdate,
  TELEGRAM_PLATFORM,
  type TelegramInbound,
  type TelegramReplyTarget,
  telegramInboundFromUpdate,
} from "./telegram-update.js";

/** Telegram's cap on one message's text, in UTF-16 code units (after entity parsing; we send plain text). */
export const TELEGRAM_MAX_MESSAGE_LENGTH = 4096;

/** Where Telegram posts updates. Outside `/v1/`: Telegram authenticates with its secret header, not the bearer token. */
export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";
/** The header Telegram sends the `secret_token` of `setWebhook` in. */
export const TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token";

/** Long polling settings: `getUpdates` instead of a webhook, for bots without a public HTTPS URL. */
export interface TelegramPollingProps {
  /** Where the next `update_id` is kept, so a restart neither loses nor repeats an update. */
  readonly offsets: TelegramOffsetStore;
  /** Long-poll wait of one `getUpdates` in seconds (default 25). */
  readonly timeoutSeconds?: number;
  /** Pause after a failed `getUpdates` or a message that could not be saved (ms, default 1000). */
  readonly retryDelayMs?: number;
}

export interface TelegramAdapterProps {
  readonly botToken: string;
  /** The `secret_token` given to `setWebhook`; every webhook request must carry it. Webhook mode only. */
  readonly webhookSecret?: string;
  /** Poll with `getUpdates` instead of taking a webhook (no route is added then). */
  readonly polling?: TelegramPollingProps;
  /** Where the adapter logs before `register` gave it the server's logger (polling has no server). */
  readonly logger?: Logger;
  /** Bot API base URL (default `https://api.telegram.org`). */
  readonly apiBaseUrl?: string;
  /** Default {@link TELEGRAM_WEBHOOK_PATH}. */
  readonly webhookPath?: string;
  /** Retry and timeout settings of the Bot API client. */
  readonly api?: Omit<TelegramBotApiProps, "token" | "baseUrl">;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * The Telegram platform: takes Bot API `Update`s from a webhook or by long polling (`getUpdates`)
 * and replies through `sendMessage`.
 *
 * Polling keeps the same guarantee as the webhook: an update is confirmed to Telegram (the offset
 * past it is stored, then asked for) only after its message is saved or refused; the updates of a
 * batch are taken one after the other, in order. A message that cannot be saved stops the batch and
 * is asked for again after a pause. A crash after a save and before the offset write brings the
 * update again, and the runtime answers it as a duplicate of its message id: no second reply.
 *
 * The webhook answers 200 once the update's message is saved in the transcript (or known as a repeat),
 * and the turn runs after that: Telegram never redelivers an update it got a 200 for, so an earlier
 * answer would lose the message to a crash or a failed write. When the message cannot be saved the
 * webhook answers the error (503 `STORE_FAILED`, ...) and Telegram delivers the update again; a
 * refusal a redelivery would meet again (a 4xx code, e.g. `/resume` of an unknown session) is
 * acknowledged. The
 * model's answer is not waited for: a turn held inside the request would block the chat behind a slow
 * model. A message of a chat whose previous turn still runs is saved (and answered) when that turn
 * ends, which keeps the chat's order; a redelivery meanwhile is harmless, the gateway drops repeats of
 * a message id.
 */
export class TelegramAdapter implements PlatformAdapter {
  readonly platform = TELEGRAM_PLATFORM;
  readonly api: TelegramBotApi;
  readonly #secret: Buffer | undefined;
  readonly #path: string;
  readonly #polling: TelegramPollingProps | undefined;
  readonly #botId: string;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopPolling = new AbortController();
  #inbound: InboundHandler | undefined;
  #pollLoop: Promise<void> | undefined;
  #log: Logger | undefined;
  #botUsername: string | undefined;

  constructor(props: TelegramAdapterProps) {
    this.api = new TelegramBotApi({
      ...props.api,
      token: props.botToken,
      ...(props.apiBaseUrl === undefined ? {} : { baseUrl: props.apiBaseUrl }),
    });
    if (!props.polling && !props.webhookSecret) {
      throw new InvalidArgumentError("webhookSecret", "is required unless the adapter polls");
    }
    this.#secret = props.webhookSecret === undefined ? undefined : digest(props.webhookSecret);
    this.#path = props.webhookPath ?? TELEGRAM_WEBHOOK_PATH;
    this.#polling = props.polling;
    // The part before the colon is the bot's id: the key of its offset.
    this.#botId = props.botToken.split(":")[0] ?? props.botToken;
    this.#log = props.logger;
  }

  /** `webhook` or `polling`. */
  get mode(): "webhook" | "polling" {
    return this.#polling ? "polling" : "webhook";
  }

  /** The bot's username, known once `start()` asked `getMe`. */
  get botUsername(): string | undefined {
    return this.#botUsername;
  }

  register(server: FastifyInstance, inbound: InboundHandler): void {
    this.#log = server.log.child({ platform: TELEGRAM_PLATFORM });
    this.#inbound = inbound;
    // A polling bot takes no requests: Telegram refuses to deliver to a webhook and to getUpdates at once.
    if (this.#polling) return;
    server.post(this.#path, async (request, reply) => {
      if (!this.#secretMatches(request.headers[TELEGRAM_SECRET_HEADER])) {
        throw new EngramError("UNAUTHORIZED", "Missing or wrong X-Telegram-Bot-Api-Secret-Token");
      }
      const update = parseTelegramUpdate(request.body);
      const message = telegramInboundFromUpdate(update, { botUsername: this.#botUsername });
      if (!message) return reply.status(200).send({ ok: true, ignored: true });
      // Queued before answering: the turn queue takes messages in webhook arrival order.
      await this.#accept(inbound, message);
      return reply.status(200).send({ ok: true });
    });
  }

  /**
   * Asks `getMe`: a wrong token fails start-up, and the username lets group commands be recognised.
   * A polling adapter then prepares its offset store, removes any webhook and starts polling.
   */
  async start(): Promise<void> {
    const me = await this.api.getMe();
    this.#botUsername = me.username;
    if (this.#polling) {
      const inbound = this.#inbound;
      if (!inbound) throw new InvalidArgumentError("adapter", "register must be called before start");
      await this.#polling.offsets.prepare();
      await this.api.deleteWebhook();
      this.#pollLoop = this.#poll(inbound, this.#polling);
    }
    this.#log?.info({ bot: me.username, mode: this.mode }, "telegram bot ready");
  }

  /** Stops polling (an update being taken is finished first), then waits for the accepted turns. */
  async stop(): Promise<void> {
    this.#stopPolling.abort();
    await this.#pollLoop;
    await this.whenIdle();
  }

  /**
   * Resolves once `message` is saved (or refused for good: acknowledged); rejects with the error when
   * it could not be saved. Its turn and reply go on in the background (see {@link whenIdle}).
   */
  #accept(inbound: InboundHandler, message: TelegramInbound): Promise<void> {
    // Queued before the caller goes on: the turn queue takes messages in arrival order.
    return new Promise<void>((stored, failed) => {
      this.#track(this.#runTurn(inbound, message, { stored, failed }));
    });
  }

  async #poll(inbound: InboundHandler, polling: TelegramPollingProps): Promise<void> {
    const signal = this.#stopPolling.signal;
    const pause = () => sleep(polling.retryDelayMs ?? 1000, signal);
    let offset = await polling.offsets.read(this.#botId).catch((error: unknown) => {
      this.#log?.error({ err: error }, "telegram offset not readable; polling from Telegram's oldest update");
      return undefined;
    });
    while (!signal.aborted) {
      let updates: unknown[];
      try {
        updates = await this.api.getUpdates(
          {
            ...(offset === undefined ? {} : { offset }),
            timeout: polling.timeoutSeconds ?? 25,
            allowed_updates: ["message", "channel_post"],
          },
          signal,
        );
      } catch (error) {
        if (signal.aborted) break;
        this.#log?.warn({ err: error }, "telegram getUpdates failed; retrying");
        await pause();
        continue;
      }
      for (const raw of updates) {
        const next = await this.#takeUpdate(inbound, raw);
        if (next === null) continue;
        if (next === undefined) {
          // Not saved: the offset stays before it, so the next getUpdates brings it again.
          await pause();
          break;
        }
        try {
          await polling.offsets.write(this.#botId, next);
        } catch (error) {
          // Telegram forgets the update once the next getUpdates confirms it, whatever we stored; a
          // restart from the older stored offset gets only what Telegram still has, so nothing repeats
          // beyond what the runtime's message-id check drops.
          this.#log?.warn({ err: error }, "telegram offset not stored");
        }
        offset = next;
        if (signal.aborted) break;
      }
    }
  }

  /**
   * One polled update: the offset after it once it is done with (saved, refused, or nothing to take),
   * `undefined` when its message could not be saved and it must be asked for again, `null` when it
   * has no id to move past.
   */
  async #takeUpdate(inbound: InboundHandler, raw: unknown): Promise<number | undefined | null> {
    const updateId = (raw as { update_id?: unknown } | null)?.update_id;
    if (typeof updateId !== "number" || !Number.isSafeInteger(updateId)) {
      // Without an id there is no offset past it (Telegram always sends one): passed over.
      this.#log?.warn({}, "telegram update without an update_id ignored");
      return null;
    }
    let message: TelegramInbound | undefined;
    try {
      message = telegramInboundFromUpdate(parseTelegramUpdate(raw), { botUsername: this.#botUsername });
    } catch (error) {
      // Asking again brings the same malformed update: skipped, as the webhook answers it 400.
      this.#log?.warn({ err: error, updateId }, "telegram update refused");
      return updateId + 1;
    }
    if (!message) return updateId + 1;
    try {
      await this.#accept(inbound, message);
      return updateId + 1;
    } catch {
      return undefined;
    }
  }

  /** Resolves once no accepted update is still being processed (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Sends `text` to the chat of `source` (into its forum topic when it is a thread), split into
   * messages of at most 4096 characters.
   *
   * @throws InvalidArgumentError when `source` is not a Telegram chat; TelegramApiError when the Bot
   *   API refuses a part (the parts before it were delivered).
   */
  async send(source: SessionSource, text: string): Promise<void> {
    if (source.platform !== TELEGRAM_PLATFORM) {
      throw new InvalidArgumentError("source.platform", `must be ${TELEGRAM_PLATFORM}`);
    }
    const chatId = toTelegramId(source.chatId);
    if (chatId === undefined) throw new InvalidArgumentError("source.chatId", "must be a Telegram chat id");
    const thread = source.chatType === "thread" ? toTelegramId(source.threadId) : undefined;
    await this.#deliver({ chatId, ...(typeof thread === "number" ? { messageThreadId: thread } : {}) }, text);
  }

  /**
   * Runs one message's turn and delivers its reply. `ack.stored` is called once the message is saved,
   * `ack.failed` with the error when the turn failed before that (the webhook then answers the error).
   */
  async #runTurn(
    inbound: InboundHandler,
    message: TelegramInbound,
    ack: { readonly stored: () => void; readonly failed: (error: unknown) => void },
  ): Promise<void> {
    const log = this.#log;
    let reply: string | null = null;
    let stored = false;
    const onStored = () => {
      stored = true;
      ack.stored();
    };
    try {
      const result = await inbound({
        source: message.source,
        text: message.text,
        messageId: message.messageId,
        timestamp: message.timestamp,
        onStored,
      });
      onStored();
      if (result.duplicate) {
        // The original's turn sent (or sends) the reply: a redelivered update must not post it twice.
        log?.info({ messageId: message.messageId }, "repeated telegram update ignored");
        return;
      }
      reply = replyText(result);
    } catch (error) {
      // A refused command or argument (4xx) is the person's to fix: final, so it is acknowledged and
      // answered in the chat. Only our own failures are errors.
      const refused = isRefusal(error);
      if (!stored && !refused) {
        // Nothing was saved: the webhook answers the error and Telegram delivers the update again.
        log?.warn(
          { err: error, messageId: message.messageId },
          "telegram message not saved; left for redelivery",
        );
        ack.failed(error);
        return;
      }
      if (!stored) onStored();
      if (refused) log?.info({ code: error.code, messageId: message.messageId }, "telegram message refused");
      else log?.error({ err: error, messageId: message.messageId }, "telegram turn failed");
      // Every outcome gets an answer in the chat (a command refused, a session not found, a model or
      // store failure); silence would leave the person waiting.
      reply = failureReply(error);
    }
    if (reply === null) return;
    try {
      await this.#deliver(message.replyTo, reply);
    } catch (error) {
      // The reply is in the transcript; the user sees it in the session's history, not in the chat.
      log?.error({ err: error, messageId: message.messageId }, "telegram reply not delivered");
    }
  }

  async #deliver(target: TelegramReplyTarget, text: string): Promise<void> {
    // Telegram refuses empty texts; a reply of only whitespace has nothing to show.
    if (text.trim() === "") return;
    const parts = splitMessageText(text, TELEGRAM_MAX_MESSAGE_LENGTH);
    for (const [index, part] of parts.entries()) {
      const params: SendMessageParams = {
        chat_id: target.chatId,
        text: part,
        ...(target.messageThreadId === undefined ? {} : { message_thread_id: target.messageThreadId }),
        ...(index === 0 && target.replyToMessageId !== undefined
          ? { reply_to_message_id: target.replyToMessageId, allow_sending_without_reply: true }
          : {}),
      };
      await this.api.sendMessage(params);
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #secretMatches(header: string | string[] | undefined): boolean {
    if (this.#secret === undefined || typeof header !== "string" || header === "") return false;
    // Both sides hashed to one length, so the comparison time says nothing about the secret's length.
    return timingSafeEqual(digest(header), this.#secret);
  }
}

/** Telegram ids are integers; channels may also be addressed by `@username`. */
function toTelegramId(value: string | undefined): number | string | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^-?\d+$/.test(value)) {
    const id = Number(value);
    return Number.isSafeInteger(id) ? id : undefined;
  }
  return /^@[A-Za-z0-9_]{4,}$/.test(value) ? value : undefined;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
