/**
 * Long-term memory through the real gateway executable with its defaults: the offline model and the
 * Holographic provider. A preference stated in one session is committed when the user leaves it
 * (`/new`), by a reset policy's expiry sweep, or after a crash, and recalled in the next session.
 */
import { sql } from "kysely";
import { expect, it } from "vitest";
import { ClockFile, describeE2E } from "./harness/index.js";

const clock = new ClockFile();
const INSTANCE_TTL_MS = 1_000;

const dm = (chatId: string) => ({ platform: "telegram", chatId, chatType: "dm", userId: chatId });

describeE2E(
  "gateway memory end to end",
  (gateway) => {
    it("recalls after /new a fact told before it", async () => {
      const before = await gateway().say(dm("9501"), "My favourite editor theme is solarized-indigo.");
      // Nothing is extracted per turn: the same question in this session recalls nothing yet.
      const early = await gateway().say(dm("9501"), "What is my favourite editor theme?");
      expect(early.reply).toContain("Nothing was recalled from memory.");
      const fresh = await gateway().say(dm("9501"), "/new");
      expect(fresh.sessionId).not.toBe(before.sessionId);
      const answer = await gateway().say(dm("9501"), "What is my favourite editor theme?");
      expect(answer.sessionId).toBe(fresh.sessionId);
      expect(answer.reply).toContain("From memory I recall:");
      expect(answer.reply).toContain("solarized-indigo");
      // Recalled memory reaches the model but is never persisted into the transcript.
      const stored = await gateway().withDb((db) =>
        db.selectFrom("messages").select(["content"]).where("session_id", "=", answer.sessionId).execute(),
      );
      for (const row of stored) expect(row.content).not.toContain("<memory-context>");
    });

    it("keeps a committed fact across kill -9 of the gateway", async () => {
      await gateway().say(dm("9502"), "I always use tabs-of-width-three in my code.");
      await gateway().say(dm("9502"), "/new");
      await gateway().stop("SIGKILL");
      await gateway().start();
      const answer = await gateway().say(dm("9502"), "Which tabs do I use in my code?");
      expect(answer.reply).toContain("From memory I recall:");
      expect(answer.reply).toContain("tabs-of-width-three");
    });

    it("commits a fact told before kill -9 when the continued session is left after the crashed process's liveness lapsed", async () => {
      await gateway().say(dm("9503"), "I always deploy with blue-green-canary rollouts.");
      await gateway().stop("SIGKILL");
      const killedAt = Date.now();
      await gateway().start();
      await gateway().say(dm("9503"), "hello after the crash");
      // In the shared commit ledger the crashed process owns that turn's memory work until its last
      // heartbeat lapses (ENGRAM_GATEWAY_INSTANCE_TTL_MS); from then on this process adopts it.
      const lapsed = killedAt + INSTANCE_TTL_MS + 250 - Date.now();
      if (lapsed > 0) await new Promise((resolve) => setTimeout(resolve, lapsed));
      await gateway().say(dm("9503"), "/new");
      const answer = await gateway().say(dm("9503"), "How do I deploy?");
      expect(answer.reply).toContain("blue-green-canary");
    });

    it("commits an idle session's memory from the expiry sweep, durably before a crash", async () => {
      const told = await gateway().say(dm("9504"), "I prefer the quokka-emerald colour scheme.");
      const finalized = await gateway().metric("engram_gateway_sessions_expiry_finalized_total");
      clock.advance(61 * 60_000);
      // The sweep runs every 200 ms; wait until it committed the expired session and flagged it (the
      // commit metric alone moves before the flag is written: a kill in between would race the test).
      const deadline = Date.now() + 10_000;
      while ((await gateway().metric("engram_gateway_sessions_expiry_finalized_total")) === finalized) {
        if (Date.now() > deadline) throw new Error("the expiry sweep never committed the idle session");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // A crash right after the sweep: no graceful drain may help.
      await gateway().stop("SIGKILL");
      const persisted = await gateway().withDb(async (db) => ({
        finalized: (
          await db
            .selectFrom("routing_entries")
            .select("expiry_finalized")
            .where("session_key", "=", told.sessionKey)
            .executeTakeFirstOrThrow()
        ).expiry_finalized,
        facts: (
          await sql<{
            content: string;
          }>`select content from holographic_facts where content like ${"%quokka-emerald%"}`.execute(db)
        ).rows.map((row) => row.content),
      }));
      expect(persisted).toEqual({
        finalized: true,
        facts: ["I prefer the quokka-emerald colour scheme."],
      });
      await gateway().start();
      const answer = await gateway().say(dm("9504"), "Which colour scheme do I prefer?");
      expect(answer.autoReset).toEqual({ reason: "idle", hadActivity: true });
      expect(answer.reply).toContain("quokka-emerald");
    });
  },
  {
    env: {
      ...clock.env(),
      ENGRAM_GATEWAY_RESET_POLICY: JSON.stringify({ mode: "idle", idleMinutes: 60 }),
      ENGRAM_GATEWAY_EXPIRY_SWEEP_MS: "200",
      ENGRAM_GATEWAY_INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
    },
  },
);
