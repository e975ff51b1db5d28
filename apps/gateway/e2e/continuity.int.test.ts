/**
 * Session continuity of the real gateway executable (seed 004 `get_or_create_session`): idle and daily
 * resets under a moved clock, resume-pending freshness, suspended winning over resume-pending, stale
 * routes healing themselves, peer recovery after the routing table is lost, and compression-tip
 * healing. State another process (or an operator) would leave behind is written with direct SQL on
 * the same database, never through the gateway's code.
 */
import { sql } from "kysely";
import { expect, it } from "vitest";
import { ClockFile, describeE2E, type MessageReply } from "./harness/index.js";

const MINUTE = 60_000;
const clock = new ClockFile();
// Two days from now at 00:00 UTC: every scenario places its messages at fixed hours of that day and the next.
const DAY = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 2 * 86_400_000;
const at = (day: number, hour: number, minute = 0) =>
  DAY + day * 86_400_000 + hour * 3_600_000 + minute * MINUTE;
const dm = (chatId: string) => ({ platform: "telegram", chatId, chatType: "dm", userId: chatId });

describeE2E(
  "gateway session continuity end to end",
  (gateway) => {
    it("resets a session idle past the policy and tells the caller why", async () => {
      clock.set(at(0, 12));
      const first = await gateway().say(dm("8001"), "good morning");
      clock.advance(100 * MINUTE);
      expect((await gateway().say(dm("8001"), "still here")).sessionId).toBe(first.sessionId);
      clock.advance(121 * MINUTE);
      const after = await gateway().say(dm("8001"), "back after lunch");
      expect(after.sessionId).not.toBe(first.sessionId);
      expect(after.autoReset).toEqual({ reason: "idle", hadActivity: true });
      expect(
        await gateway().metric("engram_gateway_session_resets_total", { reason: "idle" }),
      ).toBeGreaterThan(0);
      const left = await gateway().withDb((db) =>
        db
          .selectFrom("sessions")
          .select(["end_reason"])
          .where("id", "=", first.sessionId)
          .executeTakeFirstOrThrow(),
      );
      expect(left.end_reason).toBe("session_reset");
    });

    it("resets at the daily hour even when the session was active minutes before", async () => {
      clock.set(at(1, 3, 30));
      const night = await gateway().say(dm("8101"), "late night");
      clock.set(at(1, 3, 50));
      expect((await gateway().say(dm("8101"), "still up")).sessionId).toBe(night.sessionId);
      clock.set(at(1, 4, 10));
      const morning = await gateway().say(dm("8101"), "new day");
      expect(morning.sessionId).not.toBe(night.sessionId);
      expect(morning.autoReset).toEqual({ reason: "daily", hadActivity: true });
    });

    it("continues a fresh resume-pending session and starts over once the freshness window passed", async () => {
      clock.set(at(1, 6));
      const fresh = await gateway().say(dm("8201"), "interrupted a");
      const stale = await gateway().say(dm("8202"), "interrupted b");
      const keys = [fresh.sessionKey, stale.sessionKey];
      await gateway().withDb((db) =>
        db
          .updateTable("routing_entries")
          .set({
            resume_pending: true,
            resume_reason: "restart_timeout",
            resume_marked_at: new Date(at(1, 6)),
          })
          .where("session_key", "in", keys)
          .execute(),
      );
      clock.set(at(1, 6, 30));
      const resumed = await gateway().say(dm("8201"), "go on");
      expect(resumed.sessionId).toBe(fresh.sessionId);
      expect(resumed.autoReset).toBeUndefined();
      clock.set(at(1, 7, 1));
      const expired = await gateway().say(dm("8202"), "go on too");
      expect(expired.sessionId).not.toBe(stale.sessionId);
      expect(expired.autoReset).toEqual({ reason: "resume_pending_expired", hadActivity: true });
      const flags = await gateway().withDb((db) =>
        db
          .selectFrom("routing_entries")
          .select(["session_key", "session_id", "resume_pending"])
          .where("session_key", "in", keys)
          .orderBy("session_key")
          .execute(),
      );
      // The successful resumed turn cleared the flag; the expired key routes to a fresh, unflagged session.
      expect(flags).toEqual([
        { session_key: fresh.sessionKey, session_id: fresh.sessionId, resume_pending: false },
        { session_key: stale.sessionKey, session_id: expired.sessionId, resume_pending: false },
      ]);
    });

    it("lets suspended win over resume-pending: the next message starts a new session", async () => {
      clock.set(at(1, 8));
      const before = await gateway().say(dm("8301"), "stuck turn");
      await gateway().withDb((db) =>
        db
          .updateTable("routing_entries")
          .set({
            suspended: true,
            resume_pending: true,
            resume_reason: "restart_timeout",
            resume_marked_at: new Date(at(1, 8)),
          })
          .where("session_key", "=", before.sessionKey)
          .execute(),
      );
      clock.set(at(1, 8, 5));
      const after = await gateway().say(dm("8301"), "hello again");
      expect(after.sessionId).not.toBe(before.sessionId);
      expect(after.autoReset).toEqual({ reason: "suspended", hadActivity: true });
    });

    it("drops a route whose session another process ended, recovering it only when the end was recoverable", async () => {
      clock.set(at(1, 9));
      const reset = await gateway().say(dm("8401"), "ended elsewhere by a reset");
      const closed = await gateway().say(dm("8402"), "ended elsewhere by agent cleanup");
      const endedAt = new Date(at(1, 9, 1));
      await gateway().withDb(async (db) => {
        await db
          .updateTable("sessions")
          .set({ ended_at: endedAt, end_reason: "session_reset" })
          .where("id", "=", reset.sessionId)
          .execute();
        await db
          .updateTable("sessions")
          .set({ ended_at: endedAt, end_reason: "agent_close" })
          .where("id", "=", closed.sessionId)
          .execute();
      });
      clock.set(at(1, 9, 2));
      const staleDrops = await gateway().metric("engram_gateway_routing_decisions_total", {
        decision: "drop_stale",
      });
      const afterReset = await gateway().say(dm("8401"), "hello?");
      const afterClose = await gateway().say(dm("8402"), "hello?");
      expect(afterReset.sessionId).not.toBe(reset.sessionId);
      expect(afterClose.sessionId).toBe(closed.sessionId);
      expect(
        (await gateway().metric("engram_gateway_routing_decisions_total", { decision: "drop_stale" })) -
          staleDrops,
      ).toBe(2);
      const reopened = await gateway().withDb((db) =>
        db
          .selectFrom("sessions")
          .select(["ended_at", "end_reason"])
          .where("id", "=", closed.sessionId)
          .executeTakeFirstOrThrow(),
      );
      expect(reopened).toEqual({ ended_at: null, end_reason: null });
    });

    it("recovers every peer's session after the routing table was wiped", async () => {
      clock.set(at(1, 10));
      const sources = [
        dm("8501"),
        { platform: "telegram", chatId: "-8502", chatType: "group", userId: "u1" },
        { platform: "discord", chatId: "c8503", chatType: "group", threadId: "th", userId: "u2" },
      ];
      const before: MessageReply[] = [];
      for (const source of sources) before.push(await gateway().say(source, "remember this chat"));
      const wiped = await gateway().withDb(async (db) => {
        const { numDeletedRows } = await db.deleteFrom("routing_entries").executeTakeFirst();
        return Number(numDeletedRows);
      });
      expect(wiped).toBeGreaterThanOrEqual(sources.length);
      clock.set(at(1, 10, 5));
      const recovered = await gateway().metric("engram_gateway_routing_decisions_total", {
        decision: "recover_peer",
      });
      for (const [i, source] of sources.entries()) {
        const after = await gateway().say(source, "are you still there?");
        expect(after.sessionId).toBe(before[i]!.sessionId);
        expect(after.autoReset).toBeUndefined();
      }
      expect(
        (await gateway().metric("engram_gateway_routing_decisions_total", { decision: "recover_peer" })) -
          recovered,
      ).toBe(sources.length);
      const restored = await gateway().withDb((db) =>
        db
          .selectFrom("routing_entries")
          .select(["session_key", "session_id"])
          .where(
            "session_key",
            "in",
            before.map((b) => b.sessionKey),
          )
          .execute(),
      );
      expect(new Map(restored.map((r) => [r.session_key, r.session_id]))).toEqual(
        new Map(before.map((b) => [b.sessionKey, b.sessionId])),
      );
    });

    it("heals a route left on a compressed parent to the compression tip", async () => {
      clock.set(at(1, 11));
      const parent = await gateway().say(dm("8601"), "a long conversation");
      const tip = `${parent.sessionId.slice(0, 16)}_c0ffee01`;
      await gateway().withDb(async (db) => {
        // What an agent compressing in another process leaves when it dies before switching the route.
        await db
          .updateTable("sessions")
          .set({ ended_at: new Date(at(1, 11, 1)), end_reason: "compression" })
          .where("id", "=", parent.sessionId)
          .execute();
        await db
          .insertInto("sessions")
          .values({
            id: tip,
            source: "telegram",
            session_key: parent.sessionKey,
            user_id: "8601",
            chat_id: "8601",
            chat_type: "dm",
            parent_session_id: parent.sessionId,
            started_at: new Date(at(1, 11, 1)),
            updated_at: new Date(at(1, 11, 1)),
          })
          .execute();
      });
      clock.set(at(1, 11, 2));
      const healed = await gateway().metric("engram_gateway_routing_decisions_total", {
        decision: "heal_compression",
      });
      const after = await gateway().say(dm("8601"), "where were we?");
      expect(after.sessionId).toBe(tip);
      expect(after.autoReset).toBeUndefined();
      expect(
        (await gateway().metric("engram_gateway_routing_decisions_total", { decision: "heal_compression" })) -
          healed,
      ).toBe(1);
      const { rows } = await gateway().withDb((db) =>
        sql<{ session_id: string; messages: number }>`
          select r.session_id, (select count(*)::int from messages m where m.session_id = ${tip}) as messages
          from routing_entries r where r.session_key = ${parent.sessionKey}`.execute(db),
      );
      expect(rows).toEqual([{ session_id: tip, messages: 2 }]);
    });
  },
  {
    env: {
      ...clock.env(),
      ENGRAM_GATEWAY_RESET_POLICY: JSON.stringify({ mode: "both", atHour: 4, idleMinutes: 120 }),
    },
  },
);
