/**
 * The Slack adapter plugin in the real gateway executable, enabled by environment only
 * (`ENGRAM_SLACK_*`) against the testkit's stand-in Web API on loopback, with the default agent
 * (offline model, Holographic).
 */
import {
  postSlackEvent,
  type SlackApiServerHandle,
  slackMessageEvent,
  startSlackApiServer,
} from "@engram/testkit/slack-api-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeE2E } from "./harness/index.js";

const SIGNING_SECRET = "e2e-slack-signing-secret";

describeE2E(
  "gateway Slack adapter end to end",
  (gateway) => {
    let slack: SlackApiServerHandle;
    const events = () => `${gateway().process.url}/slack/events`;
    const waitForMessages = async (count: number) => {
      const deadline = Date.now() + 30_000;
      while (slack.messages.length < count) {
        if (Date.now() > deadline)
          throw new Error(`expected ${count} Slack messages, got ${slack.messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return slack.messages;
    };

    beforeAll(async () => {
      slack = await startSlackApiServer();
      await gateway().start({
        ENGRAM_SLACK_BOT_TOKEN: slack.token,
        ENGRAM_SLACK_SIGNING_SECRET: SIGNING_SECRET,
        ENGRAM_SLACK_API_URL: slack.apiUrl,
      });
    });
    afterAll(async () => {
      await slack?.close();
    });

    it("answers a DM once despite a retry, keeps one session per person in a channel, refuses forged events", async () => {
      expect(slack.calls.map((c) => c.method)).toContain("auth.test");
      const dm = slackMessageEvent({
        eventId: "Ev1",
        channel: "D0ERIN01",
        channelType: "im",
        user: "U0ERIN",
        text: "hello over slack",
        ts: "1700000001.000100",
      });
      expect((await postSlackEvent(events(), dm, SIGNING_SECRET)).status).toBe(200);
      const [reply] = await waitForMessages(1);
      expect(reply).toMatchObject({ channel: "D0ERIN01" });
      expect(reply?.text).toContain("You said: hello over slack");
      // Slack's retry of the same event: acknowledged, never answered again.
      expect((await postSlackEvent(events(), dm, SIGNING_SECRET, { retryNum: 1 })).status).toBe(200);
      expect((await postSlackEvent(events(), dm, "forged-secret")).status).toBe(401);

      // Two people in one channel: a session each (group sessions per user, the default).
      for (const [index, user] of ["U0ANA", "U0BEN"].entries()) {
        const said = slackMessageEvent({
          eventId: `Ev${10 + index}`,
          channel: "C0TEAM01",
          channelType: "channel",
          user,
          text: `note from ${user}`,
          ts: `1700000010.00010${index}`,
        });
        expect((await postSlackEvent(events(), said, SIGNING_SECRET)).status).toBe(200);
      }
      await waitForMessages(3);
      const rows = await gateway().withDb((db) =>
        db
          .selectFrom("messages")
          .innerJoin("sessions", "sessions.id", "messages.session_id")
          .select(["messages.session_id", "messages.role", "messages.platform_message_id"])
          .where("sessions.source", "=", "slack")
          .where("messages.role", "=", "user")
          .orderBy("messages.id")
          .execute(),
      );
      expect(rows.map((r) => r.platform_message_id)).toEqual([
        "D0ERIN01:1700000001.000100",
        "C0TEAM01:1700000010.000100",
        "C0TEAM01:1700000010.000101",
      ]);
      expect(new Set(rows.map((r) => r.session_id)).size).toBe(3);
      expect(slack.messages).toHaveLength(3);
    });
  },
  { manualStart: true },
);
