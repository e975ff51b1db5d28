import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** The token a stand-in Bot API server accepts unless told otherwise. */
export const STAND_IN_TELEGRAM_BOT_TOKEN = "123456789:STAND-IN_bot_token";

export interface StartTelegramBotApiServerProps {
  /** The only bot token the server accepts (default {@link STAND_IN_TELEGRAM_BOT_TOKEN}). */
  readonly token?: string;
  /** `getMe`'s username (default `engram_stand_in_bot`). */
  readonly botUsername?: string;
}

/** One `sendMessage` the server accepted, with the fields tests assert on. */
export interface RecordedSendMessage {
  readonly chatId: number | string;
  readonly text: string;
  readonly messageThreadId?: number;
  readonly replyToMessageId?: number;
  /** The `message_id` the server gave the message. */
  readonly messageId: number;
}

/** Every Bot API request the server received, accepted or failed, in order. */
export interface RecordedBotApiCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** The HTTP status it was answered with. */
  readonly status: number;
}

/** A scripted failure of the next calls: a 500, or a 429 carrying `parameters.retry_after`. */
export type BotApiFailure =
  | { readonly status: 500; readonly description?: string }
  | { readonly status: 429; readonly retryAfterSeconds: number }
  | { readonly status: 400 | 403; readonly description: string };

export interface TelegramBotApiServerHandle {
  /** `http://127.0.0.1:<port>`: the base URL a client puts `/bot<token>/<method>` after. */
  readonly baseUrl: string;
  readonly token: string;
  readonly botUsername: string;
  /** Messages sent successfully, in order. */
  readonly sentMessages: readonly RecordedSendMessage[];
  readonly calls: readonly RecordedBotApiCall[];
  /** Fails the next `count` calls of `method` (default any method) with `failure`. */
  failNext(count: number, failure: BotApiFailure, props?: { readonly method?: string }): void;
  /** Resolves once `count` messages were sent in total; rejects after `timeoutMs` (default 10000). */
  waitForSentMessages(count: number, timeoutMs?: number): Promise<readonly RecordedSendMessage[]>;
  /**
   * Queues updates for `getUpdates` (long polling), as Telegram holds them for a bot without a
   * webhook; a waiting `getUpdates` is answered at once. Each needs its `update_id`.
   */
  pushUpdates(...updates: readonly Readonly<Record<string, unknown>>[]): void;
  /** The updates not yet confirmed (a `getUpdates` with an `offset` past them confirms them). */
  readonly pendingUpdates: readonly Readonly<Record<string, unknown>>[];
  /** The highest `offset` a `getUpdates` asked with (Telegram forgot every update below it). */
  readonly confirmedOffset: number | undefined;
  /** Forgets the recorded calls and messages, the queued updates and the scripted failures. */
  reset(): void;
  close(): Promise<void>;
}

/** Telegram's cap on a text message. */
const MAX_TEXT_LENGTH = 4096;
const BOT_ID = 123456789;

interface PendingFailure {
  remaining: number;
  failure: BotApiFailure;
  method: string | undefined;
}

/**
 * Starts a stand-in Telegram Bot API on 127.0.0.1 at a random port. It answers `getMe`,
 * `sendMessage`, `deleteWebhook` and `getUpdates` (long polling over updates queued with
 * `pushUpdates`; an `offset` confirms the updates before it) (`POST /bot<token>/<method>`, JSON or form body, or query parameters) like the real API
 * (`{ ok: true, result }`; `{ ok: false, error_code, description, parameters? }` on failure, with the
 * same status), records every call, refuses a wrong token (401) or an unknown method (404), checks
 * `sendMessage`'s text (1-4096 characters) and fails scripted calls.
 */
export async function startTelegramBotApiServer(
  props: StartTelegramBotApiServerProps = {},
): Promise<TelegramBotApiServerHandle> {
  const token = props.token ?? STAND_IN_TELEGRAM_BOT_TOKEN;
  const botUsername = props.botUsername ?? "engram_stand_in_bot";
  const sentMessages: RecordedSendMessage[] = [];
  const calls: RecordedBotApiCall[] = [];
  const failures: PendingFailure[] = [];
  const nextMessageId = new Map<string, number>();
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  let updates: Readonly<Record<string, unknown>>[] = [];
  let confirmedOffset: number | undefined;
  const updateWaiters = new Set<() => void>();
  const wakeUpdateWaiters = () => {
    for (const wake of [...updateWaiters]) wake();
  };

  const answer = (
    res: ServerResponse,
    method: string,
    params: Record<string, unknown>,
    status: number,
    body: unknown,
  ) => {
    calls.push({ method, params, status });
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const refuse = (
    res: ServerResponse,
    method: string,
    params: Record<string, unknown>,
    status: number,
    description: string,
    parameters?: Record<string, unknown>,
  ) =>
    answer(res, method, params, status, {
      ok: false,
      error_code: status,
      description,
      ...(parameters ? { parameters } : {}),
    });

  const takeFailure = (method: string): BotApiFailure | undefined => {
    const index = failures.findIndex((f) => f.method === undefined || f.method === method);
    if (index < 0) return undefined;
    const pending = failures[index]!;
    pending.remaining--;
    if (pending.remaining <= 0) failures.splice(index, 1);
    return pending.failure;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const method = match?.[2] ?? "";
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    Object.assign(params, await readParams(req));
    if (!match) return refuse(res, method, params, 404, "Not Found");
    if (match[1] !== token) return refuse(res, method, params, 401, "Unauthorized");
    const failure = takeFailure(method);
    if (failure) {
      if (failure.status === 429) {
        return refuse(
          res,
          method,
          params,
          429,
          `Too Many Requests: retry after ${failure.retryAfterSeconds}`,
          { retry_after: failure.retryAfterSeconds },
        );
      }
      return refuse(res, method, params, failure.status, failure.description ?? "Internal Server Error");
    }
    if (method === "getMe") {
      return answer(res, method, params, 200, {
        ok: true,
        result: { id: BOT_ID, is_bot: true, first_name: "Engram stand-in", username: botUsername },
      });
    }
    if (method === "deleteWebhook") return answer(res, method, params, 200, { ok: true, result: true });
    if (method === "getUpdates") {
      const offset = asInteger(params.offset);
      if (offset !== undefined) {
        // Asking from an offset confirms every update before it: Telegram forgets them.
        updates = updates.filter((update) => (update.update_id as number) >= offset);
        confirmedOffset = Math.max(confirmedOffset ?? offset, offset);
      }
      const limit = Math.min(Math.max(asInteger(params.limit) ?? 100, 1), 100);
      const timeoutSeconds = Math.min(Math.max(asInteger(params.timeout) ?? 0, 0), 50);
      if (updates.length === 0 && timeoutSeconds > 0) {
        // Long polling: held until an update arrives, the timeout passes or the client goes away.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            updateWaiters.delete(done);
            req.socket.off("close", done);
            resolve();
          };
          const timer = setTimeout(done, timeoutSeconds * 1000);
          updateWaiters.add(done);
          req.socket.once("close", done);
        });
        if (req.socket.destroyed) return;
      }
      return answer(res, method, params, 200, { ok: true, result: updates.slice(0, limit) });
    }
    if (method !== "sendMessage") return refuse(res, method, params, 404, "Not Found: method not found");
    const chatId = asId(params.chat_id);
    if (chatId === undefined) return refuse(res, method, params, 400, "Bad Request: chat_id is empty");
    const text = typeof params.text === "string" ? params.text : "";
    if (text.trim() === "") return refuse(res, method, params, 400, "Bad Request: message text is empty");
    if (text.length > MAX_TEXT_LENGTH) {
      return refuse(res, method, params, 400, "Bad Request: message is too long");
    }
    const threadId = asInteger(params.message_thread_id);
    const replyTo = asInteger(params.reply_to_message_id);
    const messageId = (nextMessageId.get(String(chatId)) ?? 1000) + 1;
    nextMessageId.set(String(chatId), messageId);
    sentMessages.push({
      chatId,
      text,
      messageId,
      ...(threadId === undefined ? {} : { messageThreadId: threadId }),
      ...(replyTo === undefined ? {} : { replyToMessageId: replyTo }),
    });
    for (const wake of [...waiters]) wake();
    const numericChat = typeof chatId === "number" ? chatId : 0;
    return answer(res, method, params, 200, {
      ok: true,
      result: {
        message_id: messageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: numericChat, type: numericChat > 0 ? "private" : "supergroup" },
        from: { id: BOT_ID, is_bot: true, first_name: "Engram stand-in", username: botUsername },
        text,
        ...(threadId === undefined ? {} : { message_thread_id: threadId, is_topic_message: true }),
      },
    });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) refuse(res, "", {}, 500, `stand-in failure: ${String(error)}`);
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    botUsername,
    sentMessages,
    calls,
    failNext(count, failure, failProps = {}) {
      if (!Number.isInteger(count) || count < 1) throw new RangeError("count must be a positive integer");
      failures.push({ remaining: count, failure, method: failProps.method });
    },
    waitForSentMessages(count, timeoutMs = 10_000) {
      if (sentMessages.length >= count) return Promise.resolve([...sentMessages]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(`expected ${count} sent messages within ${timeoutMs} ms, got ${sentMessages.length}`),
          );
        }, timeoutMs);
        const wake = () => {
          if (sentMessages.length < count) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve([...sentMessages]);
        };
        waiters.add(wake);
      });
    },
    pushUpdates(...pushed) {
      for (const update of pushed) {
        if (!Number.isSafeInteger(update.update_id)) throw new RangeError("update_id must be an integer");
      }
      updates.push(...pushed);
      wakeUpdateWaiters();
    },
    get pendingUpdates() {
      return [...updates];
    },
    get confirmedOffset() {
      return confirmedOffset;
    },
    reset() {
      updates = [];
      confirmedOffset = undefined;
      sentMessages.length = 0;
      calls.length = 0;
      failures.length = 0;
      nextMessageId.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        wakeUpdateWaiters();
        server.close(() => resolve());
      }),
  };
}

async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  if (raw === "") return {};
  const type = req.headers["content-type"] ?? "";
  if (type.startsWith("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(raw));
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Telegram takes ids as integers or numeric strings (and `@channel` names). */
function asId(value: unknown): number | string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value !== "string" || value === "") return undefined;
  if (/^-?\d+$/.test(value)) return Number(value);
  return value.startsWith("@") ? value : undefined;
}

function asInteger(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}
