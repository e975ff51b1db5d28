/**
 * Opt-in: the adapter against the real Telegram Bot API, when `ENGRAM_TELEGRAM_LIVE_TOKEN` is set (a
 * test bot's token from @BotFather). It starts in webhook mode, which only asks `getMe` (the bot's
 * webhook or pending updates are left as they are); with `ENGRAM_TELEGRAM_LIVE_CHAT_ID` also set (a
 * chat that has talked to the bot), it sends a message longer than 4,096 characters there, which
 * Telegram accepts in parts. Skipped with the reason printed otherwise.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { TelegramAdapter } from "./telegram-adapter.js";

const token = process.env.ENGRAM_TELEGRAM_LIVE_TOKEN;
const chatId = process.env.ENGRAM_TELEGRAM_LIVE_CHAT_ID;
if (!token) console.info("telegram live test skipped: ENGRAM_TELEGRAM_LIVE_TOKEN is not set");

describe.skipIf(!token)("Telegram adapter against the real Bot API", () => {
  it("reads the bot with getMe and, given a chat, sends a reply split at 4,096 characters", async () => {
    // The secret guards an inbound webhook this test never receives on.
    const adapter = new TelegramAdapter({ botToken: token ?? "", webhookSecret: "live-test-webhook-secret" });
    adapter.register(Fastify(), async () => ({ sessionId: "live", sessionKey: "live", reply: null }));
    try {
      await adapter.start();
      expect(adapter.botUsername).toMatch(/bot$/i);
      if (chatId) {
        const long = Array.from({ length: 900 }, (_, i) => `word${i}`).join(" ");
        expect(long.length).toBeGreaterThan(4096);
        await adapter.send({ platform: "telegram", chatType: "dm", chatId }, long);
      }
    } finally {
      await adapter.stop();
    }
  }, 60_000);
});
