/**
 * Telegram by long polling (`getUpdates`) inside a real gateway (createGateway on PGlite and Postgres,
 * EchoTurnRunner), the offset in the database (`PostgresTelegramOffsetStore`), Telegram played by the
 * testkit's stand-in Bot API server. An update is confirmed (the stored offset moves past it, and the
 * next `getUpdates` asks from there) only once its message is saved; a restart neither loses nor
 * repeats one.
 */
import {
  PostgresTelegramOffsetStore,
  TelegramAdapter,
  type TelegramOffsetStore,
} from "@engram/adapter-telegram";
import type { SessionSource } from "@engram/core";
import { EchoTurnRunner } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import {
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { parseGatewayConfig } from "../config/gateway-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

const alice = { id: 601, first_name: "Alice", username: "alice" };
const aliceDm = { id: 601, type: "private", first_name: "Alice" } as const;
const dmSource: SessionSource = { platform: "telegram", chatId: "601", chatType: "dm", userId: "601" };
const BOT_ID = "123456789";

/** An offset store whose writes can be made to hang, as if the process died right before one. */
class FreezableOffsetStore implements TelegramOffsetStore {
  frozen = false;
  readonly #held: Array<() => void> = [];
  constructor(readonly inner: TelegramOffsetStore) {}
  /** Lets the held writes return without writing (the "dead" process is then closed). */
  release(): void {
    this.frozen = false;
    for (const resume of this.#held.splice(0)) resume();
  }
  prepare() {
    return this.inner.prepare();
  }
  read(botId: string) {
    return this.inner.read(botId);
  }
  write(botId: string, next: number): Promise<void> {
    if (this.frozen) return new Promise<void>((resume) => this.#held.push(resume));
    return this.inner.write(botId, next);
  }
}

describeEachBackend("Telegram long polling with a durable offset", (db) => {
  let botApi: TelegramBotApiServerHandle;
  const running: Gateway[] = [];
  const config = parseGatewayConfig({ token: "test-token-0123456789", expirySweepIntervalMs: 0 });

  beforeAll(async () => {
    botApi = await startTelegramBotApiServer();
  });
  afterAll(async () => {
    await botApi.close();
  });
  beforeEach(() => botApi.reset());
  afterEach(async () => {
    for (const gateway of running.splice(0)) await gateway.close({ drainDeadlineMs: 2000 });
  });

  const pollingAdapter = (offsets: TelegramOffsetStore = new PostgresTelegramOffsetStore(db())) =>
    new TelegramAdapter({
      botToken: botApi.token,
      apiBaseUrl: botApi.baseUrl,
      polling: { offsets, timeoutSeconds: 1, retryDelayMs: 50 },
    });
  const startGateway = async (adapter: TelegramAdapter) => {
    const gateway = createGateway({
      config,
      db: db(),
      runner: new EchoTurnRunner(),
      extraAdapters: [adapter],
    });
    running.push(gateway);
    await gateway.listen({ host: "127.0.0.1", port: 0 });
    return gateway;
  };
  const update = (updateId: number, text: string) =>
    telegramMessageUpdate({ updateId, messageId: updateId, chat: aliceDm, from: alice, text });
  const userMessages = async (gateway: Gateway) => {
    const entry = await gateway.routingIndex.get(gateway.router.sessionKeyFor(dmSource));
    if (!entry) return [];
    const messages = await gateway.transcripts.getMessages(entry.sessionId);
    return messages.filter((m) => m.role === "user").map((m) => m.content);
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("takes updates with getUpdates, answers each, and confirms them only after they are saved", async () => {
    const gateway = await startGateway(pollingAdapter());
    // Polling: no webhook route, and the webhook was removed so Telegram lets getUpdates through.
    expect(gateway.server.printRoutes()).not.toContain("webhook");
    expect(botApi.calls.map((c) => c.method)).toContain("deleteWebhook");
    botApi.pushUpdates(update(41, "first by polling"), update(42, "second by polling"));
    const sent = await botApi.waitForSentMessages(2);
    expect(sent.map((m) => [m.chatId, m.text])).toEqual([
      [601, "echo: first by polling"],
      [601, "echo: second by polling"],
    ]);
    expect(await userMessages(gateway)).toEqual(["first by polling", "second by polling"]);
    await until(
      "offset 43 stored",
      async () => (await new PostgresTelegramOffsetStore(db()).read(BOT_ID)) === 43,
    );
    await until("the next getUpdates to confirm both", () => botApi.confirmedOffset === 43);
    expect(botApi.pendingUpdates).toEqual([]);
  });

  it("leaves an update whose message could not be saved unconfirmed, and takes it again", async () => {
    await sql`create function refuse_polled() returns trigger language plpgsql as $$
      begin raise exception 'refused for the test'; end $$`.execute(db());
    await sql`create trigger refuse_polled before insert on messages
      for each row when (new.content = 'refused at first') execute function refuse_polled()`.execute(db());
    try {
      const gateway = await startGateway(pollingAdapter());
      botApi.pushUpdates(update(51, "refused at first"));
      // The save fails; getUpdates is asked again from before the update, which Telegram still holds.
      await until("two getUpdates that returned the update", () => {
        const asks = botApi.calls.filter((c) => c.method === "getUpdates" && c.status === 200);
        return asks.length >= 3;
      });
      expect(botApi.pendingUpdates.map((u) => u.update_id)).toEqual([51]);
      expect(await new PostgresTelegramOffsetStore(db()).read(BOT_ID)).toBeUndefined();
      expect(botApi.sentMessages).toEqual([]);
      await sql`drop trigger refuse_polled on messages`.execute(db());
      const [reply] = await botApi.waitForSentMessages(1);
      expect(reply?.text).toBe("echo: refused at first");
      expect(await userMessages(gateway)).toEqual(["refused at first"]);
      await until(
        "offset 52 stored",
        async () => (await new PostgresTelegramOffsetStore(db()).read(BOT_ID)) === 52,
      );
    } finally {
      await sql`drop trigger if exists refuse_polled on messages`.execute(db());
      await sql`drop function if exists refuse_polled()`.execute(db());
    }
  });

  it("goes on after a restart from the stored offset: nothing lost, nothing repeated", async () => {
    const first = await startGateway(pollingAdapter());
    botApi.pushUpdates(update(61, "before the restart"));
    await botApi.waitForSentMessages(1);
    await first.close({ drainDeadlineMs: 2000 });
    // Arrives while no gateway polls: Telegram keeps it.
    botApi.pushUpdates(update(62, "while stopped"));
    const second = await startGateway(pollingAdapter());
    botApi.pushUpdates(update(63, "after the restart"));
    const sent = await botApi.waitForSentMessages(3);
    expect(sent.map((m) => m.text)).toEqual([
      "echo: before the restart",
      "echo: while stopped",
      "echo: after the restart",
    ]);
    expect(await userMessages(second)).toEqual(["before the restart", "while stopped", "after the restart"]);
    // The restarted adapter asked from the stored offset, not from Telegram's oldest update.
    const firstAsk = botApi.calls
      .filter((c) => c.method === "getUpdates")
      .find((c) => c.params.offset === 62);
    expect(firstAsk).toBeDefined();
  });

  it("a process that dies between the save and the offset write gets the update again and answers it once", async () => {
    const offsets = new FreezableOffsetStore(new PostgresTelegramOffsetStore(db()));
    const first = await startGateway(pollingAdapter(offsets));
    botApi.pushUpdates(update(71, "saved, offset stored"));
    await botApi.waitForSentMessages(1);
    await until("offset 72 stored", async () => (await offsets.read(BOT_ID)) === 72);
    // The next update is saved and answered, but its offset write never completes: the process
    // "dies" there (the poll loop hangs on the write, so the update is never confirmed to Telegram).
    offsets.frozen = true;
    botApi.pushUpdates(update(72, "saved, offset lost"));
    await botApi.waitForSentMessages(2);
    expect(await userMessages(first)).toEqual(["saved, offset stored", "saved, offset lost"]);
    expect(await offsets.read(BOT_ID)).toBe(72);
    expect(botApi.pendingUpdates.map((u) => u.update_id)).toEqual([72]);
    // A new process on the same database: Telegram hands update 72 over again.
    const second = await startGateway(pollingAdapter());
    botApi.pushUpdates(update(73, "after the crash"));
    await botApi.waitForSentMessages(3);
    await until("offset 74 stored", async () => (await offsets.inner.read(BOT_ID)) === 74);
    // The redelivered update was recognised by its message id: kept once, answered once.
    expect(botApi.sentMessages.map((m) => m.text)).toEqual([
      "echo: saved, offset stored",
      "echo: saved, offset lost",
      "echo: after the crash",
    ]);
    expect(await userMessages(second)).toEqual([
      "saved, offset stored",
      "saved, offset lost",
      "after the crash",
    ]);
    const redelivered = botApi.calls.filter((c) => c.method === "getUpdates" && c.params.offset === 72);
    expect(redelivered.length).toBeGreaterThan(0);
    // The "dead" first gateway is closed once Telegram forgot everything it could still take.
    await until("update 73 confirmed", () => botApi.confirmedOffset === 74);
    offsets.release();
  });
});
