import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** The bot token a stand-in Slack Web API accepts unless told otherwise. */
export const STAND_IN_SLACK_BOT_TOKEN = "xoxb-stand-in-token";

/** One `chat.postMessage` the server accepted. */
export interface RecordedSlackMessage {
  readonly channel: string;
  readonly text: string;
  readonly threadTs?: string;
  readonly ts: string;
}

export interface SlackApiServerHandle {
  /** `http://127.0.0.1:<port>/api/`: the `slackApiUrl` of a Web API client. */
  readonly apiUrl: string;
  readonly token: string;
  readonly messages: readonly RecordedSlackMessage[];
  /** Every call as `{ method, status }`, in order. */
  readonly calls: readonly { readonly method: string; readonly status: number }[];
  /** Answers the next `count` calls of `method` with 429 and `Retry-After: retryAfterSeconds`. */
  failNextWith429(count: number, retryAfterSeconds: number, method?: string): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Starts a stand-in Slack Web API on 127.0.0.1: `auth.test` and `chat.postMessage` (form or JSON
 * body, token as `Authorization: Bearer` or `token` parameter), `{ ok: false, error }` like Slack's
 * (`invalid_auth`, `no_text`, `channel_not_found`, `unknown_method`), and scripted 429s with
 * `Retry-After`.
 */
export async function startSlackApiServer(
  props: { readonly token?: string } = {},
): Promise<SlackApiServerHandle> {
  const token = props.token ?? STAND_IN_SLACK_BOT_TOKEN;
  const messages: RecordedSlackMessage[] = [];
  const calls: { method: string; status: number }[] = [];
  const throttled: { method: string | undefined; remaining: number; retryAfter: number }[] = [];
  const sockets = new Set<Socket>();
  let nextTs = 1_700_000_000;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const method = /^\/api\/([A-Za-z.]+)$/.exec(new URL(req.url ?? "/", "http://x").pathname)?.[1] ?? "";
      const params = await readParams(req);
      const send = (status: number, body: object, headers: Record<string, string> = {}) => {
        calls.push({ method, status });
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      const auth = req.headers.authorization ?? (params.token ? `Bearer ${params.token}` : "");
      if (auth !== `Bearer ${token}`) return send(200, { ok: false, error: "invalid_auth" });
      const throttle = throttled.find((t) => t.method === undefined || t.method === method);
      if (throttle) {
        if (--throttle.remaining <= 0) throttled.splice(throttled.indexOf(throttle), 1);
        return send(429, { ok: false, error: "ratelimited" }, { "retry-after": String(throttle.retryAfter) });
      }
      if (method === "auth.test")
        return send(200, { ok: true, team: "Stand-in", user: "engram", user_id: "UBOT" });
      if (method !== "chat.postMessage") return send(200, { ok: false, error: "unknown_method" });
      const channel = typeof params.channel === "string" ? params.channel : "";
      const text = typeof params.text === "string" ? params.text : "";
      if (!channel) return send(200, { ok: false, error: "channel_not_found" });
      if (!text.trim()) return send(200, { ok: false, error: "no_text" });
      if (text.length > 40_000) return send(200, { ok: false, error: "msg_too_long" });
      const ts = `${++nextTs}.000100`;
      const threadTs =
        typeof params.thread_ts === "string" && params.thread_ts ? params.thread_ts : undefined;
      messages.push({ channel, text, ts, ...(threadTs ? { threadTs } : {}) });
      return send(200, { ok: true, channel, ts, message: { text, ts } });
    })().catch(() => res.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    token,
    messages,
    calls,
    failNextWith429(count, retryAfterSeconds, method) {
      throttled.push({ method, remaining: count, retryAfter: retryAfterSeconds });
    },
    reset() {
      messages.length = 0;
      calls.length = 0;
      throttled.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  if (!raw) return {};
  if ((req.headers["content-type"] ?? "").startsWith("application/json")) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export interface SlackMessageEventProps {
  readonly eventId: string;
  readonly channel: string;
  readonly channelType: "im" | "channel" | "group" | "mpim";
  readonly user: string;
  readonly text: string;
  readonly ts: string;
  readonly threadTs?: string;
}

/** An Events API `event_callback` body carrying one `message` event, as Slack posts it. */
export function slackMessageEvent(props: SlackMessageEventProps): Record<string, unknown> {
  return {
    type: "event_callback",
    team_id: "T0STANDIN",
    event_id: props.eventId,
    event_time: Math.floor(Number(props.ts)),
    event: {
      type: "message",
      channel: props.channel,
      channel_type: props.channelType,
      user: props.user,
      text: props.text,
      ts: props.ts,
      ...(props.threadTs ? { thread_ts: props.threadTs } : {}),
    },
  };
}

export interface PostSlackEventProps {
  /** Unix seconds the request claims (default now). */
  readonly timestamp?: number;
  /** Sent as `X-Slack-Retry-Num` (with `X-Slack-Retry-Reason: http_timeout`). */
  readonly retryNum?: number;
  /** Overrides the computed signature (forgery tests). */
  readonly signature?: string;
}

/** Posts `body` to a request URL the way Slack does: JSON, signed with the signing secret. */
export async function postSlackEvent(
  url: string,
  body: unknown,
  signingSecret: string,
  props: PostSlackEventProps = {},
): Promise<{ status: number; body: unknown }> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const timestamp = String(props.timestamp ?? Math.floor(Date.now() / 1000));
  const signature =
    props.signature ??
    `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${raw}`).digest("hex")}`;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": signature,
      ...(props.retryNum === undefined
        ? {}
        : { "x-slack-retry-num": String(props.retryNum), "x-slack-retry-reason": "http_timeout" }),
    },
    body: raw,
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}
