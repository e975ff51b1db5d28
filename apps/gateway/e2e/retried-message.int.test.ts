/**
 * Regression (issue 13, item 4), against the real gateway executable over HTTP: a client retry of a
 * message (same `messageId`) after `/new` was stored in the new session and answered a second time,
 * and every retry the gateway did recognise answered `reply: null`, so a client whose request timed
 * out never learnt the reply. Now a `messageId` is stored once per session key over all of the key's
 * sessions (a receipt row with a unique key, across processes), and a retry answers the original's
 * reply with `duplicate: true`, waiting for an original turn that is still running. The model is the
 * testkit's stand-in OpenAI server, scripted with distinct, slow answers.
 */
import { beforeAll, expect, it } from "vitest";
import {
  describeE2E,
  E2E_TOKEN,
  type E2EGateway,
  type MessageReply,
  telegramDm,
  useStandInModel,
} from "./harness/index.js";

const standIn = useStandInModel();
const dm = telegramDm;

/**
 * Every stored message carrying `messageId` over all sessions of `sessionKey`, its receipts, and the
 * message count of each of the key's sessions.
 */
async function storedWith(gateway: E2EGateway, sessionKey: string, messageId: string) {
  return gateway.withDb(async (db) => {
    const messages = await db
      .selectFrom("messages as m")
      .innerJoin("sessions as s", "s.id", "m.session_id")
      .select(["m.session_id", "m.content"])
      .where("s.session_key", "=", sessionKey)
      .where("m.platform_message_id", "=", messageId)
      .execute();
    const receipts = await db
      .selectFrom("platform_message_receipts")
      .select("session_id")
      .where("session_key", "=", sessionKey)
      .where("platform_message_id", "=", messageId)
      .execute();
    const sessions = await db
      .selectFrom("sessions")
      .select(["id", "message_count"])
      .where("session_key", "=", sessionKey)
      .execute();
    const keySessions = Object.fromEntries(sessions.map((s) => [s.id, s.message_count]));
    return { messages, receipts, keySessions };
  });
}

describeE2E(
  "a retried message end to end",
  (gateway) => {
    beforeAll(async () => {
      await gateway().start(standIn.env());
    });

    it("after /new is not stored again and answers with the reply from the first session", async () => {
      const chat = dm("8101");
      standIn.server.script({ text: "the one reply to M" });
      const first = await gateway().say(chat, "x", { messageId: "M-8101" });
      expect(first).toMatchObject({ reply: "the one reply to M" });
      expect(first.duplicate).toBeUndefined();
      const fresh = await gateway().say(chat, "/new");
      expect(fresh.sessionId).not.toBe(first.sessionId);
      const seen = standIn.server.requests.length;
      const retry = await gateway().say(chat, "x", { messageId: "M-8101" });
      expect(retry).toEqual({
        sessionId: first.sessionId,
        sessionKey: first.sessionKey,
        reply: "the one reply to M",
        duplicate: true,
      });
      expect(standIn.server.requests.length).toBe(seen);
      // One read of the database (on PGlite every read restarts the gateway).
      const stored = await storedWith(gateway(), first.sessionKey, "M-8101");
      expect(stored.messages).toEqual([{ session_id: first.sessionId, content: "x" }]);
      expect(stored.receipts).toEqual([{ session_id: first.sessionId }]);
      expect(stored.keySessions).toEqual({ [first.sessionId]: 2, [fresh.sessionId]: 0 });
    });

    it("waits for the original turn while it runs, and answers every retry with its reply", async () => {
      const chat = dm("8201");
      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "slow but sure", delayMs: 1_500 });
      const original = gateway().say(chat, "think hard", { messageId: "M-8201" });
      await standIn.requestArrives(seen);
      const retries = await Promise.all(
        Array.from({ length: 4 }, () => gateway().say(chat, "think hard", { messageId: "M-8201" })),
      );
      const answered = await original;
      expect(answered.reply).toBe("slow but sure");
      for (const retry of retries) {
        expect(retry).toEqual({
          sessionId: answered.sessionId,
          sessionKey: answered.sessionKey,
          reply: "slow but sure",
          duplicate: true,
        });
      }
      expect(standIn.server.requests.length).toBe(seen + 1);
      expect((await storedWith(gateway(), answered.sessionKey, "M-8201")).messages).toHaveLength(1);
    });

    it("stores one messageId posted concurrently many times once, and every answer carries the same reply", async () => {
      const chat = dm("8301");
      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "said once", delayMs: 300 });
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => gateway().say(chat, "burst", { messageId: "M-8301" })),
      );
      expect(answers.map((a) => a.reply)).toEqual(answers.map(() => "said once"));
      expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
      expect(new Set(answers.map((a) => a.sessionId)).size).toBe(1);
      expect(standIn.server.requests.length).toBe(seen + 1);
      expect((await storedWith(gateway(), answers[0]!.sessionKey, "M-8301")).messages).toHaveLength(1);
    });

    it("after a kill -9 mid-turn, a restart and a /new, answers the retry with what the restart continuation replied", async () => {
      const chat = dm("8401");
      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "never delivered", delayMs: 60_000 });
      const lost = gateway()
        .send(chat, "interrupted", { messageId: "M-8401" })
        .catch(() => "connection lost");
      await standIn.requestArrives(seen);
      await gateway().stop("SIGKILL");
      await lost;
      standIn.server.script({ text: "continued after the restart" });
      await gateway().start();
      // The continuation is queued on the key at start: the retry waits for it, then gets its reply.
      const retry = await gateway().say(chat, "interrupted", { messageId: "M-8401" });
      expect(retry).toMatchObject({ reply: "continued after the restart", duplicate: true });
      await gateway().say(chat, "/new");
      const again = await gateway().say(chat, "interrupted", { messageId: "M-8401" });
      expect(again).toEqual(retry);
      const stored = await storedWith(gateway(), retry.sessionKey, "M-8401");
      expect(stored.messages).toEqual([{ session_id: retry.sessionId, content: "interrupted" }]);
    });

    it("across two gateway processes on one database: stored once, one reply for every request", async (context) => {
      if (gateway().backend !== "postgres") {
        console.log("skipped on PGlite: its data folder belongs to one process");
        context.skip();
      }
      const peer = await gateway().startPeer();
      try {
        const chat = dm("8501");
        const processes = [gateway().process, peer];
        const post = (i: number, text: string, messageId?: string) =>
          processes[i % 2]!.post<MessageReply>(
            { source: chat, text, ...(messageId ? { messageId } : {}) },
            { authorization: `Bearer ${E2E_TOKEN}` },
          );
        const seen = standIn.server.requests.length;
        standIn.server.script({ text: "one answer for both", delayMs: 400 });
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i, "raced", "M-8501")));
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
        expect(answers.map((a) => a.body.reply)).toEqual(answers.map(() => "one answer for both"));
        expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
        expect(standIn.server.requests.length).toBe(seen + 1);
        // `/new` on one process, the retry on the other.
        const fresh = await post(1, "/new");
        expect(fresh.body.sessionId).not.toBe(answers[0]!.body.sessionId);
        const retry = await post(0, "raced", "M-8501");
        expect(retry.body).toMatchObject({
          sessionId: answers[0]!.body.sessionId,
          reply: "one answer for both",
          duplicate: true,
        });
        const stored = await storedWith(gateway(), answers[0]!.body.sessionKey, "M-8501");
        expect(stored.messages).toHaveLength(1);
        expect(stored.receipts).toHaveLength(1);
      } finally {
        await peer.kill("SIGTERM");
      }
    }, 60_000);
  },
  { manualStart: true },
);
