/**
 * The Telegram adapter inside a real gateway (createGateway on PGlite and Postgres, EchoTurnRunner)
 * over real HTTP: Telegram's side is played by the testkit's stand-in Bot API server on loopback.
 */

import { TELEGRAM_WEBHOOK_PATH, TelegramAdapter } from "@engram/adapter-telegram";
import type { SessionSource } from "@engram/core";
import { EchoTurnRunner, TurnFailedError } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import {
  postTelegramUpdate,
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { parseGatewayConfig } from "../config/gateway-config.js";
import { manualClock } from "../test-support/manual-clock.js";
import { createGateway, type Gateway } from "./create-gateway.js";

const GATEWAY_TOKEN = "test-token-0123456789";
const SECRET = "webhook_secret-0123";
const alice = { id: 501, first_name: "Alice", username: "alice" };
const bob = { id: 502, first_name: "Bob", username: "bob" };
const aliceDm = { id: 501, type: "private", first_name: "Alice" } as const;
const team = { id: -4001, type: "group", title: "Team" } as const;
const forum = { id: -100_777, type: "supergroup", title: "Forum", is_forum: true } as const;

describeEachBackend("Telegram adapter over HTTP", (db) => {
  let botApi: TelegramBotApiServerHandle;
  let gateway: Gateway;
  let adapter: TelegramAdapter;
  let webhook: string;
  let updateId = 0;

  beforeAll(async () => {
    botApi = await startTelegramBotApiServer();
  });
  afterAll(async () => {
    await botApi.close();
  });

  const config = parseGatewayConfig({ token: GATEWAY_TOKEN, expirySweepIntervalMs: 0 });
  const telegram = (botToken = botApi.token) =>
    new TelegramAdapter({ botToken, webhookSecret: SECRET, apiBaseUrl: botApi.baseUrl });

  beforeEach(async () => {
    botApi.reset();
    gateway = createGateway({
      config,
      db: db(),
      runner: new EchoTurnRunner(),
      extraAdapters: [telegram()],
    });
    const { address } = await gateway.listen({ host: "127.0.0.1", port: 0 });
    webhook = `${address}${TELEGRAM_WEBHOOK_PATH}`;
    adapter = gateway.adapterFor("telegram") as TelegramAdapter;
  });
  afterEach(async () => {
    await gateway.close({ drainDeadlineMs: 5000 });
  });

  const update = (props: Omit<Parameters<typeof telegramMessageUpdate>[0], "updateId">) =>
    telegramMessageUpdate({ updateId: ++updateId, ...props });
  /** Posts with the right secret, expects 200, and waits until the turn and its reply are done. */
  const deliver = async (body: unknown) => {
    const answer = await postTelegramUpdate(webhook, body, SECRET);
    expect(answer.status).toBe(200);
    await adapter.whenIdle();
    return answer;
  };
  const transcriptOf = async (source: SessionSource) => {
    const entry = await gateway.routingIndex.get(gateway.router.sessionKeyFor(source));
    if (!entry) return { sessionId: undefined, messages: [] as Array<[string, string]> };
    const messages = await gateway.transcripts.getMessages(entry.sessionId);
    return { sessionId: entry.sessionId, messages: messages.map((m) => [m.role, m.content]) };
  };
  const dmSource: SessionSource = { platform: "telegram", chatId: "501", chatType: "dm", userId: "501" };

  it("announces an auto-reset before the new session's first reply, and tells the user when the model failed", async () => {
    await gateway.close({ drainDeadlineMs: 5000 });
    const clock = manualClock(Date.UTC(2026, 0, 10, 12));
    const runner = new EchoTurnRunner();
    const idleConfig = parseGatewayConfig({
      token: GATEWAY_TOKEN,
      expirySweepIntervalMs: 0,
      resetPolicy: { mode: "idle", idleMinutes: 60 },
    });
    gateway = createGateway({ config: idleConfig, db: db(), runner, clock, extraAdapters: [telegram()] });
    webhook = `${(await gateway.listen({ host: "127.0.0.1", port: 0 })).address}${TELEGRAM_WEBHOOK_PATH}`;
    adapter = gateway.adapterFor("telegram") as TelegramAdapter;
    await deliver(update({ messageId: 1, chat: aliceDm, from: alice, text: "hello" }));
    clock.advance(2 * 60 * 60 * 1000);
    await deliver(update({ messageId: 2, chat: aliceDm, from: alice, text: "back again" }));
    const announced = botApi.sentMessages.at(-1)?.text ?? "";
    expect(announced).toMatch(/^Started a new session: .*inactivity/);
    expect(announced).toContain("echo: back again");
    runner.hold = async (input) => {
      throw new TurnFailedError(input.sessionId, new Error("model endpoint down"));
    };
    await deliver(update({ messageId: 3, chat: aliceDm, from: alice, text: "will fail" }));
    expect(botApi.sentMessages.at(-1)?.text).toContain("could not answer");
    expect((await transcriptOf(dmSource)).messages.at(-1)).toEqual(["user", "will fail"]);
  });

  it("asks getMe at start and answers a private message through sendMessage to that chat", async () => {
    expect(adapter.botUsername).toBe(botApi.botUsername);
    const answer = await deliver(update({ messageId: 1, chat: aliceDm, from: alice, text: "hello" }));
    expect(answer.body).toEqual({ ok: true });
    expect(botApi.sentMessages).toEqual([{ chatId: 501, text: "echo: hello", messageId: 1001 }]);
    expect((await transcriptOf(dmSource)).messages).toEqual([
      ["user", "hello"],
      ["assistant", "echo: hello"],
    ]);
  });

  it("needs no bearer token on the webhook but still guards /v1 with it", async () => {
    const v1 = await fetch(webhook.replace(TELEGRAM_WEBHOOK_PATH, "/v1/messages"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify({ source: dmSource, text: "x" }),
    });
    expect(v1.status).toBe(401);
    await deliver(update({ messageId: 2, chat: aliceDm, from: alice, text: "no bearer" }));
    expect(botApi.sentMessages.map((m) => m.text)).toEqual(["echo: no bearer"]);
  });

  it("replies into the forum topic, and two topics of one group get different sessions", async () => {
    await deliver(update({ messageId: 10, chat: forum, from: alice, text: "in topic 12", topicId: 12 }));
    await deliver(update({ messageId: 11, chat: forum, from: bob, text: "in topic 34", topicId: 34 }));
    await deliver(update({ messageId: 12, chat: forum, from: bob, text: "topic 12 again", topicId: 12 }));
    expect(botApi.sentMessages).toEqual([
      {
        chatId: -100_777,
        text: "echo: in topic 12",
        messageThreadId: 12,
        replyToMessageId: 10,
        messageId: 1001,
      },
      {
        chatId: -100_777,
        text: "echo: in topic 34",
        messageThreadId: 34,
        replyToMessageId: 11,
        messageId: 1002,
      },
      {
        chatId: -100_777,
        text: "echo: topic 12 again",
        messageThreadId: 12,
        replyToMessageId: 12,
        messageId: 1003,
      },
    ]);
    const topic = (threadId: string): SessionSource => ({
      platform: "telegram",
      chatId: "-100777",
      chatType: "thread",
      threadId,
    });
    const t12 = await transcriptOf(topic("12"));
    const t34 = await transcriptOf(topic("34"));
    expect(t12.sessionId).toBeDefined();
    expect(t34.sessionId).toBeDefined();
    expect(t12.sessionId).not.toBe(t34.sessionId);
    // Threads are shared by default: both participants of topic 12 talk in one session.
    expect(t12.messages.filter(([role]) => role === "user").map(([, text]) => text)).toEqual([
      "in topic 12",
      "topic 12 again",
    ]);
  });

  it("gives two users of one group their own sessions and replies to the group quoting each", async () => {
    await deliver(update({ messageId: 20, chat: team, from: alice, text: "alice here" }));
    await deliver(update({ messageId: 21, chat: team, from: bob, text: "bob here" }));
    expect(botApi.sentMessages.map((m) => [m.chatId, m.replyToMessageId, m.text])).toEqual([
      [-4001, 20, "echo: alice here"],
      [-4001, 21, "echo: bob here"],
    ]);
    const member = (userId: string): SessionSource => ({
      platform: "telegram",
      chatId: "-4001",
      chatType: "group",
      userId,
    });
    const a = await transcriptOf(member("501"));
    const b = await transcriptOf(member("502"));
    expect(a.messages.map(([, text]) => text)).toEqual(["alice here", "echo: alice here"]);
    expect(b.messages.map(([, text]) => text)).toEqual(["bob here", "echo: bob here"]);
    expect(a.sessionId).not.toBe(b.sessionId);
  });

  it("runs a group command addressed to this bot and ignores one addressed to another bot", async () => {
    await deliver(update({ messageId: 30, chat: team, from: alice, text: "first" }));
    await deliver(update({ messageId: 31, chat: team, from: alice, text: `/reset@${botApi.botUsername}` }));
    await deliver(update({ messageId: 32, chat: team, from: alice, text: "/reset@some_other_bot" }));
    expect(botApi.sentMessages.map((m) => m.text)).toEqual(["echo: first", "Started a new session."]);
  });

  it("answers every command in the chat: an unknown session to /resume, a refused argument, an unknown command, /start", async () => {
    await deliver(update({ messageId: 33, chat: aliceDm, from: alice, text: "hello" }));
    await deliver(update({ messageId: 34, chat: aliceDm, from: alice, text: "/resume no-such-session" }));
    await deliver(update({ messageId: 35, chat: aliceDm, from: alice, text: "/undo lots" }));
    await deliver(update({ messageId: 36, chat: aliceDm, from: alice, text: "/reste" }));
    await deliver(update({ messageId: 37, chat: aliceDm, from: alice, text: "/start" }));
    const texts = botApi.sentMessages.map((m) => m.text);
    expect(texts).toHaveLength(5);
    expect(texts[0]).toBe("echo: hello");
    expect(texts[1]).toContain('No session "no-such-session" in this chat');
    expect(texts[2]).toContain("/undo");
    expect(texts[2]).toContain("whole number");
    expect(texts[3]).toMatch(/^\/reste is not a command here\.\n\nCommands:/);
    expect(texts[4]).toMatch(/^Commands:\n\/new/);
    // Commands are the gateway's: none of them reached the agent or the transcript.
    expect((await transcriptOf(dmSource)).messages).toEqual([
      ["user", "hello"],
      ["assistant", "echo: hello"],
    ]);
  });

  it("tells the person when their message could not be taken, instead of staying silent", async () => {
    const big = "x".repeat(64 * 1024 + 1);
    await deliver(update({ messageId: 38, chat: aliceDm, from: alice, text: big }));
    expect(botApi.sentMessages.map((m) => m.text)).toEqual([
      `That message is too long (${big.length} bytes; the limit is ${64 * 1024}). Please send it in parts.`,
    ]);
  });

  it("refuses a missing or wrong secret with 401 UNAUTHORIZED, persisting and sending nothing", async () => {
    const body = update({ messageId: 40, chat: aliceDm, from: alice, text: "intruder" });
    for (const secret of [undefined, "", "wrong_secret", `${SECRET}x`, SECRET.slice(0, -1)]) {
      const answer = await postTelegramUpdate(webhook, body, secret);
      expect(answer.status, String(secret)).toBe(401);
      expect((answer.body as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    }
    await adapter.whenIdle();
    expect(await gateway.routingIndex.count()).toBe(0);
    expect(botApi.sentMessages).toEqual([]);
  });

  it("refuses a malformed update with 400 INVALID_ARGUMENT and acknowledges a textless one", async () => {
    for (const body of [
      "{not json",
      "[1,2]",
      { update_id: "x" },
      { update_id: 1, message: { text: "no chat" } },
    ]) {
      const answer = await postTelegramUpdate(webhook, body, SECRET);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect((answer.body as { error: { code: string } }).error.code).toBe("INVALID_ARGUMENT");
    }
    const sticker = await deliver(update({ messageId: 41, chat: aliceDm, from: alice }));
    expect(sticker.body).toEqual({ ok: true, ignored: true });
    await deliver(
      update({ messageId: 42, chat: aliceDm, from: alice, text: "edit", kind: "edited_message" }),
    );
    expect(await gateway.routingIndex.count()).toBe(0);
    expect(botApi.sentMessages).toEqual([]);
  });

  it("runs a redelivered update once, even when the copies race: one reply, one user message", async () => {
    const body = update({ messageId: 50, chat: aliceDm, from: alice, text: "only once" });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => postTelegramUpdate(webhook, body, SECRET)),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await adapter.whenIdle();
    // A late redelivery, after the turn finished.
    await deliver(body);
    expect(botApi.sentMessages.map((m) => m.text)).toEqual(["echo: only once"]);
    expect((await transcriptOf(dmSource)).messages).toEqual([
      ["user", "only once"],
      ["assistant", "echo: only once"],
    ]);
  });

  it("keeps webhook arrival order for one chat although turns run after the 200", async () => {
    for (let i = 0; i < 8; i++) {
      const answer = await postTelegramUpdate(
        webhook,
        update({ messageId: 60 + i, chat: aliceDm, from: alice, text: `m${i}` }),
        SECRET,
      );
      expect(answer.status).toBe(200);
    }
    await adapter.whenIdle();
    expect(botApi.sentMessages.map((m) => m.text)).toEqual(
      Array.from({ length: 8 }, (_, i) => `echo: m${i}`),
    );
  });

  it("splits a reply over 4096 characters into several messages, in order", async () => {
    const text = Array.from({ length: 900 }, (_, i) => `word${i}`).join(" ");
    await deliver(update({ messageId: 70, chat: aliceDm, from: alice, text }));
    const parts = botApi.sentMessages.map((m) => m.text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(4096);
    expect(parts.join(" ")).toBe(`echo: ${text}`);
  });

  it("retries a 429 after its retry_after and delivers the reply once", async () => {
    botApi.failNext(1, { status: 429, retryAfterSeconds: 1 }, { method: "sendMessage" });
    const started = Date.now();
    await deliver(update({ messageId: 80, chat: aliceDm, from: alice, text: "throttled" }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(botApi.calls.filter((c) => c.method === "sendMessage").map((c) => c.status)).toEqual([429, 200]);
    expect(botApi.sentMessages.map((m) => m.text)).toEqual(["echo: throttled"]);
  });

  it("keeps the turn when the Bot API fails: the transcript has both sides, nothing is resent", async () => {
    botApi.failNext(5, { status: 500 }, { method: "sendMessage" });
    await deliver(update({ messageId: 90, chat: aliceDm, from: alice, text: "lost reply?" }));
    expect(botApi.sentMessages).toEqual([]);
    // A 5xx may have delivered: it is not retried, so a message is never posted twice.
    expect(botApi.calls.filter((c) => c.method === "sendMessage")).toHaveLength(1);
    expect((await transcriptOf(dmSource)).messages).toEqual([
      ["user", "lost reply?"],
      ["assistant", "echo: lost reply?"],
    ]);
  });

  it("sends to a chat and into a topic on request, and reports Bot API failures as PLATFORM_FAILED", async () => {
    await gateway.adapterFor("telegram")?.send(dmSource, "notice");
    await adapter.send(
      { platform: "telegram", chatId: "-100777", chatType: "thread", threadId: "12" },
      "to topic",
    );
    expect(botApi.sentMessages.map((m) => [m.chatId, m.messageThreadId, m.text])).toEqual([
      [501, undefined, "notice"],
      [-100_777, 12, "to topic"],
    ]);
    botApi.failNext(1, { status: 403, description: "Forbidden: bot was blocked by the user" });
    await expect(adapter.send(dmSource, "blocked")).rejects.toMatchObject({
      code: "PLATFORM_FAILED",
      status: 403,
      errorCode: 403,
    });
    botApi.failNext(4, { status: 429, retryAfterSeconds: 0 });
    await expect(adapter.send(dmSource, "throttled")).rejects.toMatchObject({
      code: "PLATFORM_FAILED",
      status: 429,
    });
    expect(botApi.calls.filter((c) => c.status === 429)).toHaveLength(4);
    await expect(adapter.send({ ...dmSource, platform: "discord" }, "x")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("fails start-up with PLATFORM_FAILED when the Bot API refuses the token", async () => {
    const wrong = createGateway({
      config,
      extraAdapters: [telegram("42:wrong_token")],
      db: db(),
      runner: new EchoTurnRunner(),
    });
    try {
      await expect(wrong.listen({ host: "127.0.0.1", port: 0 })).rejects.toMatchObject({
        code: "PLATFORM_FAILED",
        status: 401,
      });
    } finally {
      await wrong.close({ drainDeadlineMs: 1000 });
    }
  });
});
