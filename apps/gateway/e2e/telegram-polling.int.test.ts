/**
 * Telegram by long polling in the real gateway executable (`ENGRAM_TELEGRAM_MODE=polling`, no
 * webhook secret, no public URL), killed with SIGKILL while it takes updates, restarted, again: every
 * update's message is kept exactly once and never answered twice.
 */
import {
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeE2E } from "./harness/index.js";

const chat = { id: 8001, type: "private", first_name: "Pia" } as const;
const from = { id: 8001, first_name: "Pia", username: "pia" };
const ROUNDS = 3;
interface OffsetTables {
  telegram_update_offsets: { bot_id: string; next_update_id: string };
}
const PER_ROUND = 3;

describeE2E(
  "gateway Telegram long polling end to end",
  (gateway) => {
    let botApi: TelegramBotApiServerHandle;
    let env: Record<string, string>;

    beforeAll(async () => {
      botApi = await startTelegramBotApiServer();
      env = {
        ENGRAM_TELEGRAM_BOT_TOKEN: botApi.token,
        ENGRAM_TELEGRAM_MODE: "polling",
        ENGRAM_TELEGRAM_API_BASE_URL: botApi.baseUrl,
      };
      await gateway().start(env);
    });
    afterAll(async () => {
      await gateway().stop("SIGTERM");
      await botApi?.close();
    });

    it("keeps every polled message once and answers none twice across kill -9 and restarts", async () => {
      const texts: string[] = [];
      let updateId = 100;
      for (let round = 0; round < ROUNDS; round++) {
        const sentBefore = botApi.sentMessages.length;
        for (let i = 0; i < PER_ROUND; i++) {
          updateId++;
          const text = `polled ${round}.${i}`;
          texts.push(text);
          botApi.pushUpdates(
            telegramMessageUpdate({ updateId, messageId: updateId, chat, from, text }) as {
              update_id: number;
            },
          );
        }
        // Killed in the middle of the batch: at least one of its replies went out.
        await botApi.waitForSentMessages(sentBefore + 1, 60_000);
        const exit = await gateway().stop("SIGKILL");
        expect(exit.signal).toBe("SIGKILL");
        await gateway().start(env);
      }
      // After the last restart everything pushed is taken and confirmed.
      const deadline = Date.now() + 60_000;
      while (botApi.pendingUpdates.length > 0 || botApi.confirmedOffset !== updateId + 1) {
        if (Date.now() > deadline) throw new Error(`updates still pending: ${botApi.pendingUpdates.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const rows = await gateway().withDb((db) =>
        db
          .selectFrom("messages")
          .innerJoin("sessions", "sessions.id", "messages.session_id")
          .select(["messages.content", "messages.platform_message_id"])
          .where("sessions.source", "=", "telegram")
          .where("messages.role", "=", "user")
          .orderBy("messages.id")
          .execute(),
      );
      // No loss, no repeat: each update's message exactly once, in order.
      expect(rows.map((row) => row.content)).toEqual(texts);
      expect(new Set(rows.map((row) => row.platform_message_id)).size).toBe(texts.length);
      // No reply twice (a reply cut off by a kill may be missing; the restart continues that turn).
      for (const text of texts) {
        const answers = botApi.sentMessages.filter((m) => m.text.includes(`You said: ${text}`));
        expect(answers.length, text).toBeLessThanOrEqual(1);
      }
      const stored = await gateway().withDb(async (db) => {
        const row = await (db as unknown as Kysely<OffsetTables>)
          .selectFrom("telegram_update_offsets")
          .select("next_update_id")
          .executeTakeFirst();
        return Number(row?.next_update_id);
      });
      expect(stored).toBe(updateId + 1);
    });
  },
  { manualStart: true },
);
