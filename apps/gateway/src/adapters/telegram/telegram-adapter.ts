import { createHash, timingSafeEqual } from "node:crypto";
import { EngramError, InvalidArgumentError, isEngramError, type SessionSource } from "@engram/core";
import { autoResetNotice } from "@engram/sessions";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { failureReply } from "../failure-reply.js";
import type { InboundHandler, PlatformAdapter } from "../platform-adapter.js";
import { splitMessageText } from "./split-message-text.js";
import { type SendMessageParams, TelegramBotApi, type TelegramBotApiProps } from "./telegram-bot-api.js";
import {
  parseTelegramUpdate,
  TELEGRAM_PLATFORM,
  type TelegramInbound,
  type TelegramReplyTarget,
  telegramInboundFromUpdate,
} from "./telegram-update.js";

/** Where Telegram posts updates. Outside `/v1/`: Telegram authenticates with its secret header, not the bearer token. */
export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";
/** The header Telegram sends the `secret_token` of `setWebhook` in. */
export const TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token";

export interface TelegramAdapterProps {
  readonly botToken: string;
  /** The `secret_token` given to `setWebhook`; every webhook request must carry it. */
  readonly webhookSecret: string;
  /** Bot API base URL (default `https://api.telegram.org`). */
  readonly apiBaseUrl?: string;
  /** Default {@link TELEGRAM_WEBHOOK_PATH}. */
  readonly webhookPath?: string;
  /** Retry and timeout settings of the Bot API client. */
  readonly api?: Omit<TelegramBotApiProps, "token" | "baseUrl">;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * The Telegram platform: a webhook that takes Bot API `Update`s and replies through `sendMessage`.
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
  readonly #secret: Buffer;
  readonly #path: string;
  readonly #inFlight = new Set<Promise<void>>();
  #log: FastifyBaseLogger | undefined;
  #botUsername: string | undefined;

  constructor(props: TelegramAdapterProps) {
    this.api = new TelegramBotApi({
      ...props.api,
      token: props.botToken,
      ...(props.apiBaseUrl === undefined ? {} : { baseUrl: props.apiBaseUrl }),
    });
    this.#secret = digest(props.webhookSecret);
    this.#path = props.webhookPath ?? TELEGRAM_WEBHOOK_PATH;
  }

  /** The bot's username, known once `start()` asked `getMe`. */
  get botUsername(): string | undefined {
    return this.#botUsername;
  }

  register(server: FastifyInstance, inbound: InboundHandler): void {
    this.#log = server.log.child({ platform: TELEGRAM_PLATFORM });
    server.post(this.#path, async (request, reply) => {
      if (!this.#secretMatches(request.headers[TELEGRAM_SECRET_HEADER])) {
        throw new EngramError("UNAUTHORIZED", "Missing or wrong X-Telegram-Bot-Api-Secret-Token");
      }
      const update = parseTelegramUpdate(request.body);
      const message = telegramInboundFromUpdate(update, { botUsername: this.#botUsername });
      if (!message) return reply.status(200).send({ ok: true, ignored: true });
      // Queued before answering: the turn queue takes messages in webhook arrival order.
      await new Promise<void>((stored, failed) => {
        this.#track(this.#runTurn(inbound, message, { stored, failed }));
      });
      return reply.status(200).send({ ok: true });
    });
  }

  /** Asks `getMe`: a wrong token fails start-up, and the username lets group commands be recognised. */
  async start(): Promise<void> {
    const me = await this.api.getMe();
    this.#botUsername = me.username;
    this.#log?.info({ bot: me.username }, "telegram bot ready");
  }

  /** Waits for the turns the webhook accepted (and their replies) to finish. */
  async stop(): Promise<void> {
    await this.whenIdle();
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
      const notice =
        result.autoReset && result.reply !== null ? autoResetNotice(result.autoReset) : undefined;
      reply = notice === undefined || result.reply === null ? result.reply : `${notice}\n\n${result.reply}`;
    } catch (error) {
      // A refused command or argument (4xx) is the person's to fix: final, so it is acknowledged and
      // answered in the chat. Only our own failures are errors.
      const refused = isEngramError(error) && error.httpStatus < 500;
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
    const parts = splitMessageText(text);
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
    if (typeof header !== "string" || header === "") return false;
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
