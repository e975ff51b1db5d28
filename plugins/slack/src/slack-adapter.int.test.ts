/**
 * The Slack adapter over real HTTP: mounted on a Fastify server on loopback, Slack's Web API played
 * by the testkit's stand-in, events signed like Slack's. The adapter conformance kit first, then what
 * is Slack's own: the signature window, retries, threads, url_verification, 429s.
 */
import { isEngramError } from "@engram/core";
import {
  ADAPTER_CHECKS,
  type AdapterTestInitializer,
  type ConformanceEvent,
  type ConformanceInboundHandler,
  runAdapterCheck,
} from "@engram/testkit/adapter-conformance";
import {
  postSlackEvent,
  type SlackApiServerHandle,
  slackMessageEvent,
  startSlackApiServer,
} from "@engram/testkit/slack-api-server";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_EVENTS_PATH, SLACK_MAX_MESSAGE_LENGTH, SlackAdapter } from "./slack-adapter.js";

const SIGNING_SECRET = "slack-signing-secret-0123";
let slack: SlackApiServerHandle;

beforeAll(async () => {
  slack = await startSlackApiServer();
});
afterAll(async () => {
  await slack.close();
});

const CHANNEL_TYPE = { dm: "im", group: "channel", thread: "channel", channel: "channel" } as const;
const tsOf = (eventId: number) => `1700000000.${String(eventId).padStart(6, "0")}`;

function bodyOf(event: ConformanceEvent): Record<string, unknown> {
  return slackMessageEvent({
    eventId: `Ev${event.eventId}`,
    channel: event.chatId,
    channelType: CHANNEL_TYPE[event.chatType],
    user: event.userId ?? "U0NOBODY",
    text: event.text,
    ts: tsOf(event.eventId),
    ...(event.threadId ? { threadTs: event.threadId } : {}),
  });
}

async function mount(inbound: ConformanceInboundHandler) {
  slack.reset();
  const adapter = new SlackAdapter({
    botToken: slack.token,
    signingSecret: SIGNING_SECRET,
    apiUrl: slack.apiUrl,
  });
  const server = Fastify();
  server.setErrorHandler((error, _request, reply) =>
    reply.status(isEngramError(error) ? error.httpStatus : 500).send({ error: String(error) }),
  );
  adapter.register(server, inbound);
  const url = `${await server.listen({ host: "127.0.0.1", port: 0 })}${SLACK_EVENTS_PATH}`;
  await adapter.start();
  return {
    adapter,
    url,
    async stop() {
      await server.close();
      await adapter.stop();
    },
  };
}

const slackInit: AdapterTestInitializer = {
  name: "slack (events api)",
  maxMessageLength: SLACK_MAX_MESSAGE_LENGTH,
  chatTypes: ["dm", "group", "thread"],
  chats: {
    dm: { chatId: "D0DM0001", userId: "U0ALICE" },
    group: { chatId: "C0GROUP1", userId: "U0BOB" },
    thread: { chatId: "C0GROUP1", userId: "U0CAROL", threadId: "1699999999.000100" },
  },
  async start(inbound) {
    const { adapter, url, stop } = await mount(inbound);
    const post = async (event: ConformanceEvent, secret: string) => {
      const { status } = await postSlackEvent(url, bodyOf(event), secret);
      return { acknowledged: status >= 200 && status < 300, status };
    };
    return {
      platform: adapter.platform,
      deliver: (event) => post(event, SIGNING_SECRET),
      deliverForged: (event) => post(event, "not-the-signing-secret"),
      send: (source, text) => adapter.send(source, text),
      sent: () =>
        slack.messages.map((m) => ({
          chatId: m.channel,
          text: m.text,
          ...(m.threadTs ? { threadId: m.threadTs } : {}),
        })),
      whenIdle: () => adapter.whenIdle(),
      stop,
    };
  },
};

describe(`adapter conformance: ${slackInit.name}`, () => {
  for (const check of ADAPTER_CHECKS) {
    it(check.title, async () => {
      expect(await runAdapterCheck(check, slackInit)).toEqual({ ok: true });
    });
  }
});

describe("Slack's own rules", () => {
  const received: unknown[] = [];
  const echo: ConformanceInboundHandler = async (message) => {
    received.push(message);
    message.onStored?.();
    return { sessionId: "s", sessionKey: "k", reply: `echo: ${String(message.text)}` };
  };

  it("refuses a correctly signed request whose timestamp is outside the 5-minute window (replay)", async () => {
    received.length = 0;
    const { url, stop } = await mount(echo);
    try {
      const body = bodyOf({ eventId: 1, chatType: "dm", chatId: "D0DM0001", userId: "U0A", text: "old" });
      const stale = await postSlackEvent(url, body, SIGNING_SECRET, {
        timestamp: Math.floor(Date.now() / 1000) - 301,
      });
      expect(stale.status).toBe(401);
      const missing = await postSlackEvent(url, body, SIGNING_SECRET, { signature: "" });
      expect(missing.status).toBe(401);
      expect(received).toEqual([]);
      expect((await postSlackEvent(url, body, SIGNING_SECRET)).status).toBe(200);
    } finally {
      await stop();
    }
  });

  it("answers url_verification with its challenge", async () => {
    const { url, stop } = await mount(echo);
    try {
      const answer = await postSlackEvent(
        url,
        { type: "url_verification", challenge: "c-123", token: "x" },
        SIGNING_SECRET,
      );
      expect(answer).toEqual({ status: 200, body: { challenge: "c-123" } });
    } finally {
      await stop();
    }
  });

  it("a retry (X-Slack-Retry-Num) carries the same message id, and a thread reply is answered in its thread", async () => {
    received.length = 0;
    const seen = new Set<string>();
    const dedupe: ConformanceInboundHandler = async (message) => {
      received.push(message);
      message.onStored?.();
      const repeat = seen.has(String(message.messageId));
      seen.add(String(message.messageId));
      return {
        sessionId: "s",
        sessionKey: "k",
        reply: "in thread",
        ...(repeat ? { duplicate: true as const } : {}),
      };
    };
    const { adapter, url, stop } = await mount(dedupe);
    try {
      const body = slackMessageEvent({
        eventId: "Ev77",
        channel: "C0GROUP1",
        channelType: "channel",
        user: "U0CAROL",
        text: "a reply in the thread",
        ts: "1700000100.000200",
        threadTs: "1700000000.000100",
      });
      expect((await postSlackEvent(url, body, SIGNING_SECRET)).status).toBe(200);
      expect((await postSlackEvent(url, body, SIGNING_SECRET, { retryNum: 1 })).status).toBe(200);
      await adapter.whenIdle();
      expect(received.map((m) => (m as { messageId: string }).messageId)).toEqual([
        "C0GROUP1:1700000100.000200",
        "C0GROUP1:1700000100.000200",
      ]);
      expect((received[0] as { source: object }).source).toMatchObject({
        platform: "slack",
        chatType: "thread",
        threadId: "1700000000.000100",
        userId: "U0CAROL",
      });
      expect(slack.messages).toEqual([
        expect.objectContaining({ channel: "C0GROUP1", text: "in thread", threadTs: "1700000000.000100" }),
      ]);
    } finally {
      await stop();
    }
  });

  it("waits out a 429's Retry-After and then posts the reply once", async () => {
    const { adapter, url, stop } = await mount(echo);
    try {
      slack.failNextWith429(1, 1, "chat.postMessage");
      const started = Date.now();
      const body = bodyOf({ eventId: 9, chatType: "dm", chatId: "D0DM0001", userId: "U0A", text: "busy?" });
      expect((await postSlackEvent(url, body, SIGNING_SECRET)).status).toBe(200);
      await adapter.whenIdle();
      expect(slack.calls.filter((c) => c.method === "chat.postMessage").map((c) => c.status)).toEqual([
        429, 200,
      ]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(slack.messages.map((m) => m.text)).toEqual(["echo: busy?"]);
    } finally {
      await stop();
    }
  });

  it("ignores bot messages (its own replies included), edits and other subtypes", async () => {
    received.length = 0;
    const { url, stop } = await mount(echo);
    try {
      const body = bodyOf({ eventId: 10, chatType: "dm", chatId: "D0DM0001", userId: "U0A", text: "x" });
      const event = (body as { event: Record<string, unknown> }).event;
      for (const extra of [{ bot_id: "B1" }, { subtype: "message_changed" }]) {
        const answer = await postSlackEvent(url, { ...body, event: { ...event, ...extra } }, SIGNING_SECRET);
        expect(answer.status).toBe(200);
      }
      expect(received).toEqual([]);
    } finally {
      await stop();
    }
  });
});
