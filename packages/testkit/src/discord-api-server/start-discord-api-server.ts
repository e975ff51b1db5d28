import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/** The bot token the stand-in accepts unless told otherwise (`Authorization: Bot <token>`). */
export const STAND_IN_DISCORD_BOT_TOKEN = "stand-in.discord.token";
/** The stand-in bot's user id (what a mention `<@id>` names). */
export const STAND_IN_DISCORD_BOT_ID = "900000000000000001";

/** Discord channel types the stand-in knows (a subset of Discord's). */
export const DISCORD_CHANNEL_TYPES = {
  guildText: 0,
  dm: 1,
  publicThread: 11,
  privateThread: 12,
} as const;

export interface StandInDiscordChannel {
  readonly id: string;
  readonly type: number;
  readonly guildId?: string;
  /** A thread's channel. */
  readonly parentId?: string;
  readonly name?: string;
}

/** One `POST /channels/{id}/messages` the stand-in accepted. */
export interface RecordedDiscordMessage {
  readonly id: string;
  readonly channelId: string;
  readonly content: string;
  /** The message replied to (`message_reference.message_id`). */
  readonly replyTo?: string;
  /** `allowed_mentions` as posted (what the message may ping). */
  readonly allowedMentions?: unknown;
}

export interface DiscordMessageProps {
  readonly id: string;
  readonly channelId: string;
  readonly authorId: string;
  readonly content: string;
  readonly guildId?: string;
  readonly bot?: boolean;
  /** Users mentioned (ids); the content should carry `<@id>` for each. */
  readonly mentions?: readonly string[];
}

export interface DiscordApiServerHandle {
  /** `http://127.0.0.1:<port>/api`: the `api` option of `@discordjs/rest`. */
  readonly apiUrl: string;
  /** `ws://127.0.0.1:<port>/gateway`: what `GET /gateway/bot` answers. */
  readonly gatewayUrl: string;
  readonly token: string;
  readonly botId: string;
  readonly messages: readonly RecordedDiscordMessage[];
  /** Every REST call as `{ method, path, status }`, in order. */
  readonly calls: readonly { readonly method: string; readonly path: string; readonly status: number }[];
  /** Gateway opcodes received from clients, in order (2 IDENTIFY, 1 heartbeat, 6 RESUME, ...). */
  readonly gatewayOps: readonly number[];
  /** The `intents` of each IDENTIFY, in order. */
  readonly identifiedIntents: readonly number[];
  /** Adds (or replaces) a channel `GET /channels/{id}` answers. */
  addChannel(channel: StandInDiscordChannel): void;
  /** Resolves once `count` clients finished IDENTIFY and got READY. */
  whenReady(count?: number): Promise<void>;
  /** Dispatches MESSAGE_CREATE to every READY client (a redelivery: the same props again). */
  dispatchMessage(props: DiscordMessageProps): void;
  /**
   * Closes every READY connection with `code` (default 4000, resumable): the client reconnects and
   * sends RESUME; events dispatched meanwhile are replayed then.
   */
  dropConnections(code?: number): void;
  /** The next RESUME also replays the last `count` events the client already had (at-least-once). */
  replayOnNextResume(count: number): void;
  /** Resolves once `count` RESUMEs (in all) were accepted. */
  whenResumed(count?: number): Promise<void>;
  /** Answers the next `count` message posts with 429 and `retry_after` seconds (Discord's body and headers). */
  failNextWith429(count: number, retryAfterSeconds: number): void;
  reset(): void;
  close(): Promise<void>;
}

interface GatewaySession {
  readonly id: string;
  ws: WebSocket | undefined;
  /** The stand-in closed its connection: it may be resumed. */
  dropped: boolean;
  seq: number;
  readonly log: { s: number; t: string; d: unknown }[];
}

const OP = { dispatch: 0, heartbeat: 1, identify: 2, resume: 6, hello: 10, heartbeatAck: 11 } as const;

/**
 * Starts a stand-in Discord on 127.0.0.1. REST (v10 paths under `/api/v10`): `GET /gateway/bot`,
 * `GET /users/@me`, `GET /channels/{id}`, `POST /channels/{id}/messages` (2,000-character cap,
 * `50035` like Discord), scripted 429s with Discord's rate-limit headers. The gateway speaks JSON
 * without compression: HELLO, IDENTIFY (token checked, `4004` otherwise) -> READY, heartbeats acked,
 * MESSAGE_CREATE dispatched with increasing sequence numbers, RESUME of a known session replaying
 * what was missed (then RESUMED), op 9 for an unknown one.
 */
export async function startDiscordApiServer(
  props: { readonly token?: string; readonly heartbeatIntervalMs?: number } = {},
): Promise<DiscordApiServerHandle> {
  const token = props.token ?? STAND_IN_DISCORD_BOT_TOKEN;
  const heartbeatInterval = props.heartbeatIntervalMs ?? 41_250;
  const messages: RecordedDiscordMessage[] = [];
  const calls: { method: string; path: string; status: number }[] = [];
  const gatewayOps: number[] = [];
  const identifiedIntents: number[] = [];
  const channels = new Map<string, StandInDiscordChannel>();
  const sockets = new Set<Socket>();
  const ready = new Set<WebSocket>();
  const readyWaiters: { count: number; resolve: () => void }[] = [];
  const sessions = new Map<string, GatewaySession>();
  const resumeWaiters: { count: number; resolve: () => void }[] = [];
  let sessionCount = 0;
  let resumes = 0;
  let extraReplay = 0;
  let throttled = { remaining: 0, retryAfter: 0 };
  let nextId = 1_100_000_000_000_000_000n;
  let port = 0;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = decodeURIComponent(url.pathname).replace(/^\/api(\/v\d+)?/, "");
      const method = req.method ?? "GET";
      const body = await readJson(req);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        calls.push({ method, path, status });
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(payload === undefined ? "" : JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bot ${token}`)
        return send(401, { message: "401: Unauthorized", code: 0 });
      if (method === "GET" && path === "/gateway/bot") {
        return send(200, {
          url: `ws://127.0.0.1:${port}/gateway`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
        });
      }
      if (method === "GET" && path === "/users/@me")
        return send(200, { id: STAND_IN_DISCORD_BOT_ID, username: "engram", bot: true });
      const channelMatch = /^\/channels\/(\d+)(\/messages)?$/.exec(path);
      const channel = channelMatch ? channels.get(channelMatch[1] ?? "") : undefined;
      if (channelMatch && !channel) return send(404, { message: "Unknown Channel", code: 10003 });
      if (channel && method === "GET" && !channelMatch?.[2]) {
        return send(200, {
          id: channel.id,
          type: channel.type,
          ...(channel.guildId ? { guild_id: channel.guildId } : {}),
          ...(channel.parentId ? { parent_id: channel.parentId } : {}),
          ...(channel.name ? { name: channel.name } : {}),
        });
      }
      if (channel && method === "POST" && channelMatch?.[2]) {
        if (throttled.remaining > 0) {
          throttled.remaining -= 1;
          return send(
            429,
            { message: "You are being rate limited.", retry_after: throttled.retryAfter, global: false },
            {
              "retry-after": String(Math.ceil(throttled.retryAfter)),
              "x-ratelimit-scope": "user",
              "x-ratelimit-remaining": "0",
              "x-ratelimit-reset-after": String(throttled.retryAfter),
              "x-ratelimit-bucket": "stand-in-messages",
              "x-ratelimit-limit": "5",
            },
          );
        }
        const content = typeof body?.content === "string" ? body.content : "";
        if (content.trim() === "" || content.length > 2000) {
          return send(400, {
            message: "Invalid Form Body",
            code: 50035,
            errors: { content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "2000 or fewer" }] } },
          });
        }
        const reference = body?.message_reference as { message_id?: unknown } | undefined;
        const id = String(++nextId);
        messages.push({
          id,
          channelId: channel.id,
          content,
          ...(typeof reference?.message_id === "string" ? { replyTo: reference.message_id } : {}),
          ...(body?.allowed_mentions !== undefined ? { allowedMentions: body.allowed_mentions } : {}),
        });
        return send(200, {
          id,
          channel_id: channel.id,
          content,
          author: { id: STAND_IN_DISCORD_BOT_ID, bot: true },
        });
      }
      return send(404, { message: "404: Not Found", code: 0 });
    })().catch(() => res.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const gateway = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    if (!(req.url ?? "").startsWith("/gateway")) return socket.destroy();
    gateway.handleUpgrade(req, socket, head, (ws) => gateway.emit("connection", ws));
  });
  /** Every dispatch of a session is logged with its sequence number, so a RESUME can replay it. */
  const dispatch = (session: GatewaySession, event: string, data: unknown) => {
    const seq = ++session.seq;
    session.log.push({ s: seq, t: event, d: data });
    if (session.log.length > 1000) session.log.shift();
    if (session.ws && ready.has(session.ws))
      session.ws.send(JSON.stringify({ op: OP.dispatch, t: event, s: seq, d: data }));
  };
  const markReady = (ws: WebSocket) => {
    ready.add(ws);
    for (const waiter of [...readyWaiters]) {
      if (ready.size >= waiter.count) {
        readyWaiters.splice(readyWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  gateway.on("connection", (ws) => {
    ws.send(JSON.stringify({ op: OP.hello, d: { heartbeat_interval: heartbeatInterval }, s: null, t: null }));
    ws.on("close", () => {
      ready.delete(ws);
      // A connection the client closed ends its session; one the stand-in dropped stays resumable.
      for (const session of sessions.values())
        if (session.ws === ws && !session.dropped) sessions.delete(session.id);
    });
    ws.on("message", (raw) => {
      let payload: { op?: unknown; d?: unknown };
      try {
        payload = JSON.parse(String(raw)) as { op?: unknown; d?: unknown };
      } catch {
        return ws.close(4002, "Decode error");
      }
      if (typeof payload.op !== "number") return ws.close(4001, "Unknown opcode");
      gatewayOps.push(payload.op);
      if (payload.op === OP.heartbeat) {
        ws.send(JSON.stringify({ op: OP.heartbeatAck, d: null, s: null, t: null }));
        return;
      }
      if (payload.op !== OP.identify && payload.op !== OP.resume) return;
      const d = (payload.d ?? {}) as {
        token?: unknown;
        intents?: unknown;
        session_id?: unknown;
        seq?: unknown;
      };
      if (d.token !== token) return ws.close(4004, "Authentication failed.");
      if (payload.op === OP.resume) {
        const session = typeof d.session_id === "string" ? sessions.get(d.session_id) : undefined;
        if (!session) {
          // Not resumable (op 9, d false): the client identifies afresh.
          ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
          return;
        }
        session.ws = ws;
        session.dropped = false;
        markReady(ws);
        // Replays what the client missed after its last sequence number, and as many it already
        // had as `replayOnNextResume` asked for (at-least-once delivery).
        const from = (typeof d.seq === "number" ? d.seq : 0) - extraReplay;
        extraReplay = 0;
        for (const entry of session.log.filter((e) => e.s > from && e.t !== "READY" && e.t !== "RESUMED"))
          ws.send(JSON.stringify({ op: OP.dispatch, t: entry.t, s: entry.s, d: entry.d }));
        dispatch(session, "RESUMED", null);
        resumes += 1;
        for (const waiter of [...resumeWaiters]) {
          if (resumes >= waiter.count) {
            resumeWaiters.splice(resumeWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        return;
      }
      identifiedIntents.push(typeof d.intents === "number" ? d.intents : 0);
      const session: GatewaySession = {
        id: `stand-in-session-${++sessionCount}`,
        ws,
        dropped: false,
        seq: 0,
        log: [],
      };
      sessions.set(session.id, session);
      markReady(ws);
      dispatch(session, "READY", {
        v: 10,
        user: { id: STAND_IN_DISCORD_BOT_ID, username: "engram", discriminator: "0", bot: true },
        guilds: [],
        session_id: session.id,
        resume_gateway_url: `ws://127.0.0.1:${port}/gateway`,
        shard: [0, 1],
        application: { id: STAND_IN_DISCORD_BOT_ID, flags: 0 },
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}/api`,
    gatewayUrl: `ws://127.0.0.1:${port}/gateway`,
    token,
    botId: STAND_IN_DISCORD_BOT_ID,
    messages,
    calls,
    gatewayOps,
    identifiedIntents,
    addChannel(channel) {
      channels.set(channel.id, channel);
    },
    whenReady(count = 1) {
      if (ready.size >= count) return Promise.resolve();
      return new Promise((resolve) => readyWaiters.push({ count, resolve }));
    },
    dispatchMessage(message) {
      const data = {
        id: message.id,
        channel_id: message.channelId,
        ...(message.guildId ? { guild_id: message.guildId } : {}),
        author: {
          id: message.authorId,
          username: `user${message.authorId}`,
          discriminator: "0",
          ...(message.bot ? { bot: true } : {}),
        },
        content: message.content,
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: (message.mentions ?? []).map((id) => ({ id, username: `user${id}`, discriminator: "0" })),
        mention_roles: [],
        attachments: [],
        embeds: [],
        pinned: false,
        type: 0,
      };
      // A session whose connection the stand-in dropped logs it too: its RESUME replays it.
      for (const session of sessions.values()) dispatch(session, "MESSAGE_CREATE", data);
    },
    dropConnections(code = 4000) {
      for (const session of sessions.values()) {
        if (!session.ws || !ready.has(session.ws)) continue;
        session.dropped = true;
        ready.delete(session.ws);
        session.ws.close(code, "stand-in dropped the connection");
      }
    },
    replayOnNextResume(count) {
      extraReplay = count;
    },
    whenResumed(count = 1) {
      if (resumes >= count) return Promise.resolve();
      return new Promise((resolve) => resumeWaiters.push({ count, resolve }));
    },
    failNextWith429(count, retryAfterSeconds) {
      throttled = { remaining: count, retryAfter: retryAfterSeconds };
    },
    reset() {
      messages.length = 0;
      calls.length = 0;
      gatewayOps.length = 0;
      identifiedIntents.length = 0;
      throttled = { remaining: 0, retryAfter: 0 };
    },
    close: async () => {
      for (const ws of gateway.clients) ws.terminate();
      await new Promise<void>((resolve) => gateway.close(() => resolve()));
      await new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
    },
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
