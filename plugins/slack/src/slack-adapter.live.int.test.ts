/**
 * Opt-in: the adapter against the real Slack Web API, when `ENGRAM_SLACK_LIVE_TOKEN` is set (a test
 * app's bot token, `xoxb-...`). It starts (`auth.test`: a wrong token fails); with
 * `ENGRAM_SLACK_LIVE_CHANNEL_ID` also set (a channel the bot is in), it posts a message longer than
 * 4,000 characters there, which Slack accepts in parts, then one reply into the thread of a message
 * it posted. Skipped with the reason printed otherwise.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { SlackAdapter } from "./slack-adapter.js";

const token = process.env.ENGRAM_SLACK_LIVE_TOKEN;
const channelId = process.env.ENGRAM_SLACK_LIVE_CHANNEL_ID;
if (!token) console.info("slack live test skipped: ENGRAM_SLACK_LIVE_TOKEN is not set");

describe.skipIf(!token)("Slack adapter against the real Slack", () => {
  it("authenticates and, given a channel, posts a reply split at 4,000 characters and one in a thread", async () => {
    // The signing secret checks inbound events, which this test never receives.
    const adapter = new SlackAdapter({ botToken: token ?? "", signingSecret: "live-test-signing-secret" });
    adapter.register(Fastify(), async () => ({ sessionId: "live", sessionKey: "live", reply: null }));
    try {
      await adapter.start();
      const auth = await adapter.client.auth.test();
      expect(auth.ok).toBe(true);
      expect(auth.user_id).toBeTruthy();
      if (channelId) {
        const long = Array.from({ length: 900 }, (_, i) => `word${i}`).join(" ");
        expect(long.length).toBeGreaterThan(4000);
        await adapter.send({ platform: "slack", chatType: "group", chatId: channelId }, long);
        const parent = await adapter.client.chat.postMessage({
          channel: channelId,
          text: "engram live test: thread parent",
        });
        expect(parent.ts).toBeTruthy();
        await adapter.send(
          { platform: "slack", chatType: "thread", chatId: channelId, threadId: parent.ts ?? "" },
          "engram live test: a reply in the thread",
        );
      }
    } finally {
      await adapter.stop();
    }
  }, 60_000);
});
