/**
 * The Discord adapter over a real WebSocket gateway and REST, both played by the testkit's stand-in
 * on loopback: the adapter conformance kit first, then what is Discord's own (mention and prefix
 * rules, thread mapping, a gateway replay, 429s, saving retried because Discord never redelivers).
 */

import { GatewayIntentBits } from "@discordjs/core";
import { isEngramError, StoreError } from "@engram/core";
import {
  ADAPTER_CHECKS,
  type AdapterTestInitializer,
  type ConformanceEvent,
  type ConformanceInboundHandler,
  runAdapterCheck,
} from "@engram/testkit/adapter-conformance";
import {
  DISCORD_CHANNEL_TYPES,
  type DiscordApiServerHandle,
  type DiscordMessageProps,
  startDiscordApiServer,
} from "@engram/testkit/discord-api-server";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DISCORD_INTENTS,
  DISCORD_MAX_MESSAGE_LENGTH,
  DiscordAdapter,
  type DiscordAdapterProps,
} from "./discord-adapter.js";

const GUILD = "800000000000000001";
const DM_CHANNEL = "810000000000000001";
const TEXT_CHANNEL = "820000000000000001";
const THREAD = "830000000000000001";
let discord: DiscordApiServerHandle;

beforeAll(async () => {
  discord = await startDiscordApiServer();
  discord.addChannel({ id: DM_CHANNEL, type: DISCORD_CHANNEL_TYPES.dm });
  discord.addChannel({
    id: TEXT_CHANNEL,
    type: DISCORD_CHANNEL_TYPES.guildText,
    guildId: GUILD,
    name: "general",
  });
  discord.addChannel({
    id: THREAD,
    type: DISCORD_CHANNEL_TYPES.publicThread,
    guildId: GUILD,
    parentId: TEXT_CHANNEL,
    name: "plans",
  });
});
afterAll(async () => {
  await discord.close();
});

const snowflakeOf = (eventId: number) => String(1_200_000_000_000_000_000n + BigInt(eventId));

/** A conformance event as Discord dispatches it; guild messages mention the bot (the default rule). */
function messageOf(event: ConformanceEvent): DiscordMessageProps {
  const inGuild = event.chatType !== "dm";
  return {
    id: snowflakeOf(event.eventId),
    channelId: event.chatType === "thread" ? (event.threadId ?? "") : event.chatId,
    authorId: event.userId ?? "700000000000000009",
    content: inGuild ? `<@${discord.botId}> ${event.text}` : event.text,
    ...(inGuild ? { guildId: GUILD, mentions: [discord.botId] } : {}),
  };
}

async function mount(inbound: ConformanceInboundHandler, props: Partial<DiscordAdapterProps> = {}) {
  discord.reset();
  const adapter = new DiscordAdapter({
    botToken: discord.token,
    apiUrl: discord.apiUrl,
    saveRetryDelaysMs: [50, 50],
    ...props,
  });
  const server = Fastify();
  server.setErrorHandler((error, _request, reply) =>
    reply.status(isEngramError(error) ? error.httpStatus : 500).send({ error: String(error) }),
  );
  adapter.register(server, inbound);
  await adapter.start();
  /** Dispatches over the gateway and resolves once the adapter received the event. */
  const dispatch = async (message: DiscordMessageProps) => {
    const before = adapter.messagesReceived;
    discord.dispatchMessage(message);
    const deadline = Date.now() + 5000;
    while (adapter.messagesReceived === before) {
      if (Date.now() > deadline) throw new Error("the adapter did not receive the gateway event");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return {
    adapter,
    dispatch,
    async stop() {
      await adapter.stop();
      await server.close();
    },
  };
}

const discordInit: AdapterTestInitializer = {
  name: "discord (gateway)",
  maxMessageLength: DISCORD_MAX_MESSAGE_LENGTH,
  chatTypes: ["dm", "group", "thread"],
  chats: {
    dm: { chatId: DM_CHANNEL, userId: "700000000000000001" },
    group: { chatId: TEXT_CHANNEL, userId: "700000000000000002" },
    thread: { chatId: TEXT_CHANNEL, userId: "700000000000000003", threadId: THREAD },
  },
  noRedelivery:
    "the Discord gateway has no acknowledgement and never redelivers; the adapter retries saving itself (tested below)",
  async start(inbound) {
    const { adapter, dispatch, stop } = await mount(inbound);
    return {
      platform: adapter.platform,
      async deliver(event) {
        await dispatch(messageOf(event));
        return { acknowledged: true };
      },
      send: (source, text) => adapter.send(source, text),
      sent: () =>
        discord.messages.map((m) =>
          m.channelId === THREAD
            ? { chatId: TEXT_CHANNEL, threadId: THREAD, text: m.content }
            : { chatId: m.channelId, text: m.content },
        ),
      whenIdle: () => adapter.whenIdle(),
      stop,
    };
  },
};

describe(`adapter conformance: ${discordInit.name}`, () => {
  for (const check of ADAPTER_CHECKS) {
    it(check.title, async () => {
      expect(await runAdapterCheck(check, discordInit)).toEqual(
        check.id === "forged-event-refused" || check.id === "unsaved-not-acknowledged"
          ? { ok: true, skipped: expect.any(String) }
          : { ok: true },
      );
    });
  }
});

describe("Discord's own rules", () => {
  const received: { text: string; messageId: string; source: Record<string, unknown> }[] = [];
  const echo: ConformanceInboundHandler = async (message) => {
    received.push(message as never);
    message.onStored?.();
    return { sessionId: "s", sessionKey: "k", reply: `echo: ${String(message.text)}` };
  };
  let nextId = 1;
  const guildMessage = (content: string, extra: Partial<DiscordMessageProps> = {}): DiscordMessageProps => ({
    id: snowflakeOf(500 + nextId++),
    channelId: TEXT_CHANNEL,
    guildId: GUILD,
    authorId: "700000000000000005",
    content,
    ...extra,
  });

  it("identifies with the message intents (MESSAGE_CONTENT included) and keeps the heartbeat HELLO asked for", async () => {
    const quick = await startDiscordApiServer({ heartbeatIntervalMs: 100 });
    const adapter = new DiscordAdapter({ botToken: quick.token, apiUrl: quick.apiUrl });
    adapter.register(Fastify(), echo);
    try {
      await adapter.start();
      expect(quick.identifiedIntents).toEqual([DISCORD_INTENTS]);
      expect(DISCORD_INTENTS & GatewayIntentBits.MessageContent).toBe(GatewayIntentBits.MessageContent);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(quick.gatewayOps.filter((op) => op === 1).length).toBeGreaterThanOrEqual(2);
    } finally {
      await adapter.stop();
      await quick.close();
    }
    const { stop } = await mount(echo);
    try {
      expect(discord.gatewayOps.filter((op) => op !== 1)).toEqual([2]);
      expect(discord.calls.map((c) => `${c.method} ${c.path}`)).toEqual(
        expect.arrayContaining(["GET /users/@me", "GET /gateway/bot"]),
      );
    } finally {
      await stop();
    }
  });

  it("mention mode: answers only messages that mention the bot, without the mention; DMs always", async () => {
    received.length = 0;
    const { adapter, dispatch, stop } = await mount(echo);
    try {
      await dispatch(guildMessage("just chatting"));
      await dispatch(guildMessage(`hey <@${discord.botId}> what's up`, { mentions: [discord.botId] }));
      await dispatch({
        id: snowflakeOf(900),
        channelId: DM_CHANNEL,
        authorId: "700000000000000005",
        content: "in a dm",
      });
      await adapter.whenIdle();
      expect(received.map((m) => m.text)).toEqual(["hey what's up", "in a dm"]);
      expect(received[0]?.source).toMatchObject({
        chatType: "group",
        chatId: TEXT_CHANNEL,
        scopeId: GUILD,
        chatName: "general",
      });
      expect(received[1]?.source).toMatchObject({ chatType: "dm", chatId: DM_CHANNEL });
      expect(discord.messages.map((m) => [m.channelId, m.content])).toEqual([
        [TEXT_CHANNEL, "echo: hey what's up"],
        [DM_CHANNEL, "echo: in a dm"],
      ]);
      // The first part answers the message it replies to.
      expect(discord.messages[0]?.replyTo).toBe(received[0]?.messageId);
      // A model's answer may contain "@everyone" or a mention: it must never ping anyone.
      for (const message of discord.messages) expect(message.allowedMentions).toEqual({ parse: [] });
    } finally {
      await stop();
    }
  });

  it("prefix mode answers `!` messages with the prefix removed; all mode answers everything", async () => {
    received.length = 0;
    const prefixed = await mount(echo, { respondTo: "prefix", prefix: "!" });
    try {
      await prefixed.dispatch(guildMessage("no prefix"));
      await prefixed.dispatch(guildMessage("!remember the milk"));
      await prefixed.adapter.whenIdle();
      expect(received.map((m) => m.text)).toEqual(["remember the milk"]);
    } finally {
      await prefixed.stop();
    }
    received.length = 0;
    const all = await mount(echo, { respondTo: "all" });
    try {
      await all.dispatch(guildMessage("anything at all"));
      await all.adapter.whenIdle();
      expect(received.map((m) => m.text)).toEqual(["anything at all"]);
    } finally {
      await all.stop();
    }
  });

  it("ignores bots (its own replies included) and answers a gateway replay of one message once", async () => {
    received.length = 0;
    const { adapter, dispatch, stop } = await mount(echo, { respondTo: "all" });
    try {
      await dispatch(guildMessage("from a bot", { authorId: "700000000000000077", bot: true }));
      await dispatch(guildMessage("from myself", { authorId: discord.botId }));
      const once = guildMessage("replayed");
      await dispatch(once);
      await dispatch(once);
      await adapter.whenIdle();
      expect(received.map((m) => m.text)).toEqual(["replayed"]);
      expect(discord.messages.map((m) => m.content)).toEqual(["echo: replayed"]);
    } finally {
      await stop();
    }
  });

  it("resumes a dropped gateway session: what was missed is answered, what is replayed again is not", async () => {
    received.length = 0;
    const { adapter, dispatch, stop } = await mount(echo);
    try {
      const dm = (id: number, content: string) => ({
        id: snowflakeOf(id),
        channelId: DM_CHANNEL,
        authorId: "700000000000000005",
        content,
      });
      await dispatch(dm(970, "before the drop"));
      await adapter.whenIdle();
      const resumesBefore = discord.gatewayOps.filter((op) => op === 6).length;
      discord.replayOnNextResume(2);
      discord.dropConnections();
      // Sent while the bot is disconnected: Discord keeps it for the RESUME.
      discord.dispatchMessage(dm(971, "while disconnected"));
      const received0 = adapter.messagesReceived;
      await discord.whenResumed();
      const deadline = Date.now() + 5000;
      while (adapter.messagesReceived < received0 + 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await adapter.whenIdle();
      expect(discord.gatewayOps.filter((op) => op === 6).length).toBe(resumesBefore + 1);
      // The replay carried the first message again and the missed one.
      expect(adapter.messagesReceived).toBeGreaterThanOrEqual(received0 + 2);
      expect(received.map((m) => m.text)).toEqual(["before the drop", "while disconnected"]);
      expect(discord.messages.map((m) => m.content)).toEqual([
        "echo: before the drop",
        "echo: while disconnected",
      ]);
    } finally {
      await stop();
    }
  });

  it("a message in a thread is a thread session under its parent channel, answered in the thread", async () => {
    received.length = 0;
    const { adapter, dispatch, stop } = await mount(echo, { respondTo: "all" });
    try {
      await dispatch(guildMessage("in the thread", { channelId: THREAD }));
      await adapter.whenIdle();
      expect(received[0]?.source).toMatchObject({
        platform: "discord",
        chatType: "thread",
        chatId: TEXT_CHANNEL,
        threadId: THREAD,
        chatName: "plans",
      });
      expect(discord.messages.map((m) => m.channelId)).toEqual([THREAD]);
    } finally {
      await stop();
    }
  });

  it("saves a message again when saving failed (Discord never redelivers), and answers once", async () => {
    let attempts = 0;
    const flaky: ConformanceInboundHandler = async (message) => {
      attempts += 1;
      if (attempts === 1) throw new StoreError("append", new Error("connection reset"));
      message.onStored?.();
      return { sessionId: "s", sessionKey: "k", reply: "saved on the second try" };
    };
    const { adapter, dispatch, stop } = await mount(flaky);
    try {
      await dispatch({
        id: snowflakeOf(950),
        channelId: DM_CHANNEL,
        authorId: "700000000000000005",
        content: "keep me",
      });
      await adapter.whenIdle();
      expect(attempts).toBe(2);
      expect(discord.messages.map((m) => m.content)).toEqual(["saved on the second try"]);
    } finally {
      await stop();
    }
  });

  it("answers in the chat when every attempt to save failed", async () => {
    const broken: ConformanceInboundHandler = async () => {
      throw new StoreError("append", new Error("disk full"));
    };
    const { adapter, dispatch, stop } = await mount(broken);
    try {
      await dispatch({
        id: snowflakeOf(951),
        channelId: DM_CHANNEL,
        authorId: "700000000000000005",
        content: "lost?",
      });
      await adapter.whenIdle();
      expect(discord.messages).toHaveLength(1);
      expect(discord.messages[0]?.content).toMatch(/try again/i);
    } finally {
      await stop();
    }
  });

  it("leaves a 429 to the REST queue: waits out retry_after and posts the reply once", async () => {
    const { adapter, dispatch, stop } = await mount(echo);
    try {
      discord.failNextWith429(1, 1);
      const started = Date.now();
      await dispatch({
        id: snowflakeOf(960),
        channelId: DM_CHANNEL,
        authorId: "700000000000000005",
        content: "busy?",
      });
      await adapter.whenIdle();
      const posts = discord.calls.filter((c) => c.method === "POST").map((c) => c.status);
      expect(posts).toEqual([429, 200]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(discord.messages.map((m) => m.content)).toEqual(["echo: busy?"]);
    } finally {
      await stop();
    }
  });

  it("a wrong token fails start-up", async () => {
    const adapter = new DiscordAdapter({ botToken: "wrong.token.value", apiUrl: discord.apiUrl });
    await expect(adapter.start()).rejects.toThrow();
  });
});
