/**
 * The Telegram adapter of the real gateway executable, configured by environment only
 * (`ENGRAM_TELEGRAM_*`) against the testkit's stand-in Bot API on loopback, with the default agent
 * (offline model, Holographic).
 */
import {
  postTelegramUpdate,
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeE2E, E2E_TOKEN, GatewayProcess } from "./harness/index.js";

const SECRET = "e2e_webhook-secret";
const chat = { id: 7001, type: "private", first_name: "Erin" } as const;
const from = { id: 7001, first_name: "Erin", username: "erin" };

describeE2E(
  "gateway Telegram adapter end to end",
  (gateway) => {
    let botApi: TelegramBotApiServerHandle;
    const webhook = () => `${gateway().process.url}/telegram/webhook`;

    beforeAll(async () => {
      botApi = await startTelegramBotApiServer();
      await gateway().start({
        ENGRAM_TELEGRAM_BOT_TOKEN: botApi.token,
        ENGRAM_TELEGRAM_WEBHOOK_SECRET: SECRET,
        ENGRAM_TELEGRAM_API_BASE_URL: botApi.baseUrl,
      });
    });
    afterAll(async () => {
      await botApi?.close();
    });

    it("answers a private message through sendMessage and keeps one transcript, redeliveries included", async () => {
      // The executable asked getMe when it started.
      expect(botApi.calls.map((c) => c.method)).toContain("getMe");
      const hello = telegramMessageUpdate({
        updateId: 1,
        messageId: 1,
        chat,
        from,
        text: "hello over telegram",
      });
      expect((await postTelegramUpdate(webhook(), hello, SECRET)).status).toBe(200);
      const [reply] = await botApi.waitForSentMessages(1);
      expect(reply).toMatchObject({ chatId: 7001 });
      expect(reply?.text).toContain("You said: hello over telegram");

      // Telegram redelivers; then the chat goes on. Turns of a chat run in order, so a reply to the
      // copy would arrive before the second message's.
      expect((await postTelegramUpdate(webhook(), hello, SECRET)).status).toBe(200);
      const next = telegramMessageUpdate({ updateId: 2, messageId: 2, chat, from, text: "second message" });
      expect((await postTelegramUpdate(webhook(), next, SECRET)).status).toBe(200);
      const sent = await botApi.waitForSentMessages(2);
      expect(sent).toHaveLength(2);
      expect(sent[1]?.text).toContain("You said: second message");

      expect((await postTelegramUpdate(webhook(), next, "wrong-secret")).status).toBe(401);

      const rows = await gateway().withDb((db) =>
        db
          .selectFrom("messages")
          .innerJoin("sessions", "sessions.id", "messages.session_id")
          .select(["messages.role", "messages.content", "messages.platform_message_id"])
          .where("sessions.source", "=", "telegram")
          .orderBy("messages.id")
          .execute(),
      );
      expect(rows.map((r) => [r.role, r.platform_message_id])).toEqual([
        ["user", "7001:1"],
        ["assistant", null],
        ["user", "7001:2"],
        ["assistant", null],
      ]);
    });

    it("refuses to start on an invalid Telegram configuration, listing every problem", async () => {
      const started = GatewayProcess.start({
        env: {
          ENGRAM_GATEWAY_TOKEN: E2E_TOKEN,
          ...gateway().database.env(),
          ENGRAM_TELEGRAM_BOT_TOKEN: "not-a-token",
          ENGRAM_TELEGRAM_API_BASE_URL: "ftp://example.org",
        },
        readyTimeoutMs: 15_000,
      });
      const failure = await started.then(
        async (unexpected) => {
          await unexpected.kill("SIGKILL");
          return "";
        },
        (error: Error) => error.message,
      );
      expect(failure).toContain("exited before listening (code 1");
      // main prints the start-up problems (here the Telegram adapter plugin's, which the environment
      // enabled), every one on its own line, each naming the environment variable and the setting.
      expect(failure).toContain("Engram cannot start: 3 configuration problems");
      for (const variable of [
        "ENGRAM_TELEGRAM_BOT_TOKEN (botToken)",
        "ENGRAM_TELEGRAM_WEBHOOK_SECRET (webhookSecret)",
        "ENGRAM_TELEGRAM_API_BASE_URL (apiBaseUrl)",
      ]) {
        expect(failure).toContain(variable);
      }
      expect(failure).toContain("ENGRAM_TELEGRAM_BOT_TOKEN (botToken): must look like");
    });
  },
  { manualStart: true },
);
