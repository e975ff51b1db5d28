/**
 * Crashes and graceful stops of the real gateway executable in the middle of a turn. The model is the
 * testkit's stand-in OpenAI server (configured through `ENGRAM_MODEL*`, as an operator would), scripted
 * to answer slowly so the process is provably mid-turn: the model request has arrived.
 */

import { CONTINUATION_NOTE } from "@engram/sessions";
import { beforeAll, expect, it } from "vitest";
import { describeE2E, telegramDm, useStandInModel } from "./harness/index.js";

const standIn = useStandInModel();
const dm = telegramDm;
const modelRequestArrives = (after: number) => standIn.requestArrives(after);

describeE2E(
  "gateway crash and restart end to end",
  (gateway) => {
    beforeAll(async () => {
      // The model's URL is known only now; start the gateway against it.
      await gateway().start(standIn.env());
    });

    it("survives kill -9 mid-turn: same session after restart, transcript intact up to the interrupted message", async () => {
      const first = await gateway().say(dm("9001"), "before the crash");
      expect(first.reply).toBe("ok");
      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "never delivered", delayMs: 60_000 });
      const inFlight = gateway()
        .send(dm("9001"), "interrupted by kill -9")
        .then(
          () => "answered",
          () => "connection lost",
        );
      await modelRequestArrives(seen);
      const exit = await gateway().stop("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      expect(await inFlight).toBe("connection lost");

      await gateway().start();
      // Everything saved before the kill is there (the restart's continuation may already follow it).
      expect((await gateway().transcript(first.sessionId)).slice(0, 3)).toEqual([
        { role: "user", content: "before the crash" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "interrupted by kill -9" },
      ]);
      const after = await gateway().say(dm("9001"), "are you back?");
      expect(after.sessionId).toBe(first.sessionId);
      expect(after.autoReset).toBeUndefined();
      // The restart continued the interrupted turn (a system note and its reply) before the new message.
      expect((await gateway().transcript(first.sessionId)).map((m) => [m.role, m.content])).toEqual([
        ["user", "before the crash"],
        ["assistant", "ok"],
        ["user", "interrupted by kill -9"],
        ["system", CONTINUATION_NOTE],
        ["assistant", "ok"],
        ["user", "are you back?"],
        ["assistant", "ok"],
      ]);
    });

    it("finishes the running turn on SIGTERM, marks its key resume-pending, and continues it after the restart", async () => {
      const first = await gateway().say(dm("9101"), "before the stop");
      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "finished while stopping", delayMs: 1_500 });
      const inFlight = gateway().send(dm("9101"), "in flight at SIGTERM");
      await modelRequestArrives(seen);
      const exit = await gateway().stop("SIGTERM");
      expect(exit).toEqual({ code: 0, signal: null });
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(answered.body.reply).toBe("finished while stopping");

      const entry = await gateway().withDb((db) =>
        db
          .selectFrom("routing_entries")
          .select(["session_id", "resume_pending", "resume_reason"])
          .where("session_key", "=", first.sessionKey)
          .executeTakeFirstOrThrow(),
      );
      expect(entry).toEqual({
        session_id: first.sessionId,
        resume_pending: true,
        resume_reason: "gateway_shutdown",
      });
      await gateway().start();
      const resumed = await gateway().say(dm("9101"), "carry on");
      expect(resumed.sessionId).toBe(first.sessionId);
      expect(resumed.autoReset).toBeUndefined();
      const cleared = await gateway().withDb((db) =>
        db
          .selectFrom("routing_entries")
          .select(["resume_pending"])
          .where("session_key", "=", first.sessionKey)
          .executeTakeFirstOrThrow(),
      );
      expect(cleared.resume_pending).toBe(false);
      expect((await gateway().transcript(first.sessionId)).map((m) => m.content)).toEqual([
        "before the stop",
        "ok",
        "in flight at SIGTERM",
        "finished while stopping",
        "carry on",
        "ok",
      ]);
    });
  },
  { manualStart: true },
);
