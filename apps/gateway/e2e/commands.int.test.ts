/**
 * The session commands of the real gateway executable over HTTP, on both backends: `/new <title>`,
 * `/sessions`, `/resume N`, `/branch`, `/undo`, `/stop` against a provably running turn, and `/model`
 * persisted across a restart. The model is the testkit's stand-in OpenAI server (`ENGRAM_MODEL*`).
 */
import { beforeAll, expect, it } from "vitest";
import { describeE2E, type E2EGateway, telegramDm, useStandInModel } from "./harness/index.js";

const standIn = useStandInModel();
const dm = telegramDm;
const modelRequestArrives = (after: number) => standIn.requestArrives(after);

const activeTranscript = async (gateway: E2EGateway, sessionId: string) =>
  (await gateway.transcript(sessionId, { activeOnly: true })).map((m) => `${m.role}:${m.content}`);

describeE2E(
  "gateway commands end to end",
  (gateway) => {
    beforeAll(async () => {
      await gateway().start(standIn.env());
    });

    it("names, lists, branches, rewinds and resumes a chat's sessions", async () => {
      const chat = dm("7101");
      const plans = await gateway().say(chat, "/new Plans");
      await gateway().say(chat, "plan A");
      await gateway().say(chat, "plan A, step 2");
      const branch = await gateway().say(chat, "/branch Plan B");
      expect(branch.sessionId).not.toBe(plans.sessionId);
      expect(await activeTranscript(gateway(), branch.sessionId)).toEqual(
        await activeTranscript(gateway(), plans.sessionId),
      );
      await gateway().say(chat, "plan B only");
      const undo = await gateway().say(chat, "/undo");
      expect(undo.sessionId).toBe(branch.sessionId);
      expect(await activeTranscript(gateway(), branch.sessionId)).toEqual([
        "user:plan A",
        "assistant:ok",
        "user:plan A, step 2",
        "assistant:ok",
      ]);
      const listed = await gateway().say(chat, "/sessions");
      expect(listed.reply).toContain(`1. Plan B — ${branch.sessionId}`);
      expect(listed.reply).toContain(`2. Plans — ${plans.sessionId}`);
      // Another chat lists nothing of this one's and cannot resume it.
      expect((await gateway().say(dm("7102"), "/sessions")).reply).not.toContain(plans.sessionId);
      const refused = await gateway().send(dm("7102"), `/resume ${plans.sessionId}`);
      expect(refused.status).toBe(404);
      const resumed = await gateway().say(chat, "/resume 2");
      expect(resumed.sessionId).toBe(plans.sessionId);
      expect((await gateway().say(chat, "back on plan A")).sessionId).toBe(plans.sessionId);
    });

    it("interrupts a running turn on /stop without waiting for it; the session and the user's message stay", async () => {
      const chat = dm("7201");
      const first = await gateway().say(chat, "warm up");
      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "too late", delayMs: 30_000 });
      const running = gateway().send(chat, "a very long task");
      await modelRequestArrives(seen);
      const stop = await gateway().say(chat, "/stop");
      expect(stop.reply).toBe("Stopped the running turn.");
      const stopped = await running;
      expect(stopped.status).toBe(200);
      expect(stopped.body).toMatchObject({ sessionId: first.sessionId, reply: null, stopped: true });
      expect(await activeTranscript(gateway(), first.sessionId)).toEqual([
        "user:warm up",
        "assistant:ok",
        "user:a very long task",
      ]);
      const next = await gateway().say(chat, "still there?");
      expect(next).toMatchObject({ sessionId: first.sessionId, reply: "ok" });
    });

    it("keeps a /model override without credentials, across a restart", async () => {
      const chat = dm("7301");
      const first = await gateway().say(chat, "hello");
      expect(standIn.server.requests.at(-1)?.body.model).toBe("stand-in");
      expect((await gateway().say(chat, "/model tiny-model:v2")).reply).toContain("tiny-model:v2");
      await gateway().say(chat, "with the override");
      expect(standIn.server.requests.at(-1)?.body.model).toBe("tiny-model:v2");
      const stored = await gateway().withDb((db) =>
        db
          .selectFrom("routing_entries")
          .select("model_override")
          .where("session_key", "=", first.sessionKey)
          .executeTakeFirstOrThrow(),
      );
      expect(stored.model_override).toEqual({ model: "tiny-model:v2" });
      await gateway().restart();
      await gateway().say(chat, "after the restart");
      expect(standIn.server.requests.at(-1)?.body.model).toBe("tiny-model:v2");
      const bad = await gateway().send(chat, "/model rm -rf /");
      expect(bad.status).toBe(400);
      expect((bad.body as unknown as { error: { code: string } }).error.code).toBe("INVALID_ARGUMENT");
    });
  },
  { manualStart: true },
);
