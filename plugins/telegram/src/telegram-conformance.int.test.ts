/**
 * The Telegram adapter (webhook) through the testkit's adapter conformance kit: mounted on a Fastify
 * server on loopback, Telegram played by the stand-in Bot API server.
 */
import { isEngramError } from "@engram/core";
import {
  ADAPTER_CHECKS,
  type AdapterTestInitializer,
  type ConformanceEvent,
  runAdapterCheck,
} from "@engram/testkit/adapter-conformance";
import {
  postTelegramUpdate,
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryTelegramOffsetStore } from "./db/telegram-offset-store.js";
import { TELEGRAM_MAX_MESSAGE_LENGTH, TELEGRAM_WEBHOOK_PATH, TelegramAdapter } from "./telegram-adapter.js";

const SECRET = "conformance_secret-1";
let botApi: TelegramBotApiServerHandle;

/** The neutral event as the Update Telegram would post. */
function updateOf(event: ConformanceEvent): Record<string, unknown> {
  const id = Number(event.chatId);
  const chat =
    event.chatType === "dm"
      ? { id, type: "private" as const, first_name: "Dana" }
      : event.chatType === "group"
        ? { id, type: "group" as const, title: "Group" }
        : event.chatType === "thread"
          ? { id, type: "supergroup" as const, title: "Forum", is_forum: true }
          : { id, type: "channel" as const, title: "Channel" };
  return telegramMessageUpdate({
    updateId: event.eventId,
    messageId: event.eventId,
    chat,
    ...(event.userId ? { from: { id: Number(event.userId), first_name: "Dana" } } : {}),
    text: event.text,
    ...(event.threadId ? { topicId: Number(event.threadId) } : {}),
  });
}

const telegramWebhook: AdapterTestInitializer = {
  name: "telegram (webhook)",
  maxMessageLength: TELEGRAM_MAX_MESSAGE_LENGTH,
  async start(inbound) {
    botApi.reset();
    const adapter = new TelegramAdapter({
      botToken: botApi.token,
      webhookSecret: SECRET,
      apiBaseUrl: botApi.baseUrl,
    });
    const server = Fastify();
    // What a host's error handler does: an Engram error answers its own status.
    server.setErrorHandler((error, _request, reply) =>
      reply.status(isEngramError(error) ? error.httpStatus : 500).send({ error: String(error) }),
    );
    adapter.register(server, inbound);
    const address = await server.listen({ host: "127.0.0.1", port: 0 });
    await adapter.start();
    const post = async (event: ConformanceEvent, secret: string) => {
      const { status } = await postTelegramUpdate(
        `${address}${TELEGRAM_WEBHOOK_PATH}`,
        updateOf(event),
        secret,
      );
      return { acknowledged: status >= 200 && status < 300, status };
    };
    return {
      platform: adapter.platform,
      deliver: (event) => post(event, SECRET),
      deliverForged: (event) => post(event, "not-the-secret"),
      send: (source, text) => adapter.send(source, text),
      sent: () =>
        botApi.sentMessages.map((message) => ({
          chatId: String(message.chatId),
          ...(message.messageThreadId === undefined ? {} : { threadId: String(message.messageThreadId) }),
          text: message.text,
        })),
      whenIdle: () => adapter.whenIdle(),
      async stop() {
        await server.close();
        await adapter.stop();
      },
    };
  },
  async beforeAll() {
    botApi = await startTelegramBotApiServer();
  },
  async afterAll() {
    await botApi.close();
  },
};

/**
 * Long polling: an event is pushed to the stand-in's queue and counts as acknowledged once the adapter
 * confirmed it (asked `getUpdates` from past it); one still unconfirmed after a while is not. No
 * secret: the forged-event check is skipped.
 */
const telegramPolling: AdapterTestInitializer = {
  name: "telegram (long polling)",
  maxMessageLength: TELEGRAM_MAX_MESSAGE_LENGTH,
  async start(inbound) {
    botApi.reset();
    const adapter = new TelegramAdapter({
      botToken: botApi.token,
      apiBaseUrl: botApi.baseUrl,
      polling: { offsets: new MemoryTelegramOffsetStore(), timeoutSeconds: 1, retryDelayMs: 20 },
    });
    const server = Fastify();
    adapter.register(server, inbound);
    await adapter.start();
    return {
      platform: adapter.platform,
      async deliver(event) {
        botApi.pushUpdates(updateOf(event));
        const deadline = Date.now() + 1500;
        while (Date.now() < deadline) {
          if ((botApi.confirmedOffset ?? 0) > event.eventId) return { acknowledged: true };
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return { acknowledged: false };
      },
      send: (source, text) => adapter.send(source, text),
      sent: () =>
        botApi.sentMessages.map((message) => ({
          chatId: String(message.chatId),
          ...(message.messageThreadId === undefined ? {} : { threadId: String(message.messageThreadId) }),
          text: message.text,
        })),
      whenIdle: () => adapter.whenIdle(),
      async stop() {
        await adapter.stop();
        await server.close();
      },
    };
  },
};

describe(`adapter conformance: ${telegramPolling.name}`, () => {
  beforeAll(() => telegramWebhook.beforeAll?.());
  afterAll(() => telegramWebhook.afterAll?.());
  for (const check of ADAPTER_CHECKS) {
    it(check.title, async () => {
      const result = await runAdapterCheck(check, telegramPolling);
      if (check.id === "forged-event-refused")
        expect(result).toMatchObject({ ok: true, skipped: expect.any(String) });
      else expect(result).toEqual({ ok: true });
    });
  }
});

describe(`adapter conformance: ${telegramWebhook.name}`, () => {
  beforeAll(() => telegramWebhook.beforeAll?.());
  afterAll(() => telegramWebhook.afterAll?.());
  for (const check of ADAPTER_CHECKS) {
    it(check.title, async () => {
      const result = await runAdapterCheck(check, telegramWebhook);
      expect(result).toEqual({ ok: true });
    });
  }
});
