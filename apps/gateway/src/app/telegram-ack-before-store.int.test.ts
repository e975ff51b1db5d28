/**
 * Regression (issue 13): the Telegram webhook answered 200 as soon as an update was queued, before its
 * message was saved. An update whose text held a NUL byte was acknowledged, then its turn failed on the
 * write (PostgreSQL refuses NUL in text), and since Telegram never redelivers an acknowledged update
 * the message was lost; any failed write or crash in that window lost a message the same way.
 *
 * Fix: the text is made storable (NUL and unpaired surrogates become U+FFFD), and the webhook answers
 * only once the message is in the transcript; a failed write answers the error, so Telegram delivers
 * the update again.
 */

import { TELEGRAM_WEBHOOK_PATH, TelegramAdapter } from "@engram/adapter-telegram";
import type { SessionSource } from "@engram/core";
import { EchoTurnRunner } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import {
  postTelegramUpdate,
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
  type WebhookAnswer,
} from "@engram/testkit/telegram-bot-api-server";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { parseGatewayConfig } from "../config/gateway-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

const SECRET = "webhook_secret-0123";
const alice = { id: 501, first_name: "Alice", username: "alice" };
const aliceDm = { id: 501, type: "private", first_name: "Alice" } as const;
const dmSource: SessionSource = { platform: "telegram", chatId: "501", chatType: "dm", userId: "501" };

describeEachBackend("Telegram webhook acknowledges only saved messages", (db) => {
  let botApi: TelegramBotApiServerHandle;
  let gateway: Gateway;
  let adapter: TelegramAdapter;
  let runner: EchoTurnRunner;
  let webhook: string;
  let updateId = 0;

  beforeAll(async () => {
    botApi = await startTelegramBotApiServer();
  });
  afterAll(async () => {
    await botApi.close();
  });
  beforeEach(async () => {
    botApi.reset();
    runner = new EchoTurnRunner();
    const config = parseGatewayConfig({
      token: "test-token-0123456789",
      expirySweepIntervalMs: 0,
    });
    gateway = createGateway({
      config,
      db: db(),
      runner,
      extraAdapters: [
        new TelegramAdapter({ botToken: botApi.token, webhookSecret: SECRET, apiBaseUrl: botApi.baseUrl }),
      ],
    });
    webhook = `${(await gateway.listen({ host: "127.0.0.1", port: 0 })).address}${TELEGRAM_WEBHOOK_PATH}`;
    adapter = gateway.adapterFor("telegram") as TelegramAdapter;
  });
  afterEach(async () => {
    runner.hold = undefined;
    await gateway.close({ drainDeadlineMs: 5000 });
  });

  const update = (messageId: number, text: string) =>
    telegramMessageUpdate({ updateId: ++updateId, messageId, chat: aliceDm, from: alice, text });
  const userMessages = async () => {
    const entry = await gateway.routingIndex.get(gateway.router.sessionKeyFor(dmSource));
    if (!entry) return [];
    const messages = await gateway.transcripts.getMessages(entry.sessionId);
    return messages.filter((m) => m.role === "user").map((m) => m.content);
  };

  it("keeps a message whose text holds a NUL byte or a lone surrogate: saved with U+FFFD and answered", async () => {
    const nul = await postTelegramUpdate(webhook, update(1, "before\u0000after"), SECRET);
    expect(nul.status).toBe(200);
    // Acknowledged means saved: the message is in the transcript before any turn finished.
    expect(await userMessages()).toEqual(["before\ufffdafter"]);
    const surrogate = await postTelegramUpdate(webhook, update(2, "half \ud83d pair"), SECRET);
    expect(surrogate.status).toBe(200);
    await adapter.whenIdle();
    expect(await userMessages()).toEqual(["before\ufffdafter", "half \ufffd pair"]);
    expect(botApi.sentMessages.map((m) => m.text)).toEqual([
      "echo: before\ufffdafter",
      "echo: half \ufffd pair",
    ]);
  });

  it("answers a message that waits behind the chat's running turn only once that turn let it be saved", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    runner.hold = () => held;
    const first = await postTelegramUpdate(webhook, update(10, "first"), SECRET);
    expect(first.status).toBe(200);
    let second: WebhookAnswer | undefined;
    const answered = postTelegramUpdate(webhook, update(11, "second"), SECRET).then((answer) => {
      second = answer;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Not saved yet (the first turn holds the chat), so not acknowledged yet.
    expect(second).toBeUndefined();
    expect(await userMessages()).toEqual(["first"]);
    release();
    await answered;
    expect(second?.status).toBe(200);
    await adapter.whenIdle();
    expect(await userMessages()).toEqual(["first", "second"]);
    expect(botApi.sentMessages.map((m) => m.text)).toEqual(["echo: first", "echo: second"]);
  });

  it("acknowledges a command refused for the user's own reason, which a redelivery would meet again", async () => {
    const answer = await postTelegramUpdate(webhook, update(30, "/resume no-such-session"), SECRET);
    expect([answer.status, answer.body]).toEqual([200, { ok: true }]);
    await adapter.whenIdle();
  });

  it("answers a failed save with its error, so Telegram delivers the update again and it is kept once", async () => {
    // The database itself refuses the write (a trigger), as a full disk or a dropped connection would.
    await sql`create function refuse_message() returns trigger language plpgsql as $$
      begin raise exception 'refused for the test'; end $$`.execute(db());
    await sql`create trigger refuse_message before insert on messages
      for each row when (new.content = 'refused once') execute function refuse_message()`.execute(db());
    try {
      const body = update(20, "refused once");
      const refused = await postTelegramUpdate(webhook, body, SECRET);
      expect(refused.status).toBe(503);
      expect((refused.body as { error: { code: string } }).error.code).toBe("STORE_FAILED");
      await adapter.whenIdle();
      expect(botApi.sentMessages).toEqual([]);
      await sql`drop trigger refuse_message on messages`.execute(db());
      const redelivered = await postTelegramUpdate(webhook, body, SECRET);
      expect(redelivered.status).toBe(200);
      await adapter.whenIdle();
      expect(await userMessages()).toEqual(["refused once"]);
      expect(botApi.sentMessages.map((m) => m.text)).toEqual(["echo: refused once"]);
    } finally {
      await sql`drop trigger if exists refuse_message on messages`.execute(db());
      await sql`drop function if exists refuse_message()`.execute(db());
    }
  });
});
