/**
 * Opt-in: the adapter against the real Discord, when `ENGRAM_DISCORD_LIVE_TOKEN` is set (a test bot's
 * token). It reads the bot's user, connects to the real gateway and reaches READY; with
 * `ENGRAM_DISCORD_LIVE_CHANNEL_ID` also set, it posts a message longer than 2,000 characters to that
 * channel, which Discord accepts in parts. Skipped with the reason printed otherwise.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { DiscordAdapter } from "./discord-adapter.js";

const token = process.env.ENGRAM_DISCORD_LIVE_TOKEN;
const channelId = process.env.ENGRAM_DISCORD_LIVE_CHANNEL_ID;
if (!token) console.info("discord live test skipped: ENGRAM_DISCORD_LIVE_TOKEN is not set");

describe.skipIf(!token)("Discord adapter against the real Discord", () => {
  it("connects to the gateway and, given a channel, posts a reply split at 2,000 characters", async () => {
    const adapter = new DiscordAdapter({ botToken: token ?? "" });
    adapter.register(Fastify(), async () => ({ sessionId: "live", sessionKey: "live", reply: null }));
    try {
      await adapter.start();
      if (channelId) {
        const long = Array.from({ length: 450 }, (_, i) => `word${i}`).join(" ");
        expect(long.length).toBeGreaterThan(2000);
        await adapter.send({ platform: "discord", chatType: "group", chatId: channelId }, long);
      }
    } finally {
      await adapter.stop();
    }
  }, 60_000);
});
