/**
 * Restart safety of the real gateway executable (issue 5 "Restart safety"): kill -9 mid-turn, graceful
 * stops whose drain finishes, and a stuck turn that kills the process three times in a row. The model
 * is the testkit's stand-in OpenAI server, scripted slow so the process is provably mid-turn.
 */

import { CONTINUATION_NOTE } from "@engram/sessions";
import { beforeAll, expect, it } from "vitest";
import { describeE2E, type E2EGateway, telegramDm, useStandInModel } from "./harness/index.js";

const standIn = useStandInModel();
const dm = telegramDm;
const modelRequestArrives = (after: number) => standIn.requestArrives(after);

/** Sends a message whose turn the stand-in model holds for a minute, and waits until the model has it. */
async function turnInFlight(gateway: E2EGateway, chatId: string, text: string): Promise<void> {
  const seen = standIn.server.requests.length;
  standIn.server.script({ text: "never delivered", delayMs: 60_000 });
  void gateway.send(dm(chatId), text).catch(() => undefined);
  await modelRequestArrives(seen);
}

interface RestoreLine {
  previousRun: string;
  marked: number;
  suspended: string[];
  continuing: Array<{ sessionKey: string; sessionId: string; resumeReason: string | null }>;
}

/** The `restart restore` log line of the running process. */
function restoreLine(gateway: E2EGateway): RestoreLine {
  for (const line of gateway.process.output().split("\n")) {
    if (!line.includes('"restart restore"')) continue;
    return JSON.parse(line) as RestoreLine;
  }
  throw new Error(`no restore line in:\n${gateway.process.output()}`);
}

const routeOf = (gateway: E2EGateway, sessionKey: string) =>
  gateway.withDb((db) =>
    db
      .selectFrom("routing_entries")
      .select(["session_id", "suspended", "resume_pending", "resume_reason"])
      .where("session_key", "=", sessionKey)
      .executeTakeFirstOrThrow(),
  );

describeE2E(
  "gateway restart safety end to end",
  (gateway) => {
    beforeAll(async () => {
      await gateway().start(standIn.env());
    });

    it("after kill -9 mid-turn restores the session resume-pending and continues it before answering a new message", async () => {
      const first = await gateway().say(dm("7001"), "before the crash");
      await turnInFlight(gateway(), "7001", "interrupted by kill -9");
      expect((await gateway().stop("SIGKILL")).signal).toBe("SIGKILL");

      const seen = standIn.server.requests.length;
      standIn.server.script({ text: "picking up where I left off", delayMs: 1_500 }, { text: "yes, back" });
      await gateway().start();
      const restore = restoreLine(gateway());
      expect(restore).toMatchObject({ previousRun: "unclean", marked: 1, suspended: [] });
      expect(restore.continuing).toEqual([
        { sessionKey: first.sessionKey, sessionId: first.sessionId, resumeReason: "restart_interrupted" },
      ]);
      // Sent while the continuation's model call is still running: it must wait behind it.
      const after = gateway().say(dm("7001"), "are you back?");
      await modelRequestArrives(seen);
      if (gateway().database.sharesConnections) {
        expect(await routeOf(gateway(), first.sessionKey)).toMatchObject({
          session_id: first.sessionId,
          resume_pending: true,
          resume_reason: "restart_interrupted",
        });
      }
      const answered = await after;
      expect(answered).toMatchObject({ sessionId: first.sessionId, reply: "yes, back" });
      expect(answered.autoReset).toBeUndefined();
      // The continuation's request carried the system note as the turn's input.
      expect(JSON.stringify(standIn.server.requests[seen]?.body)).toContain(
        "interrupted by a gateway restart",
      );
      expect(
        await gateway().metric("engram_gateway_restart_continuations_total", { result: "continued" }),
      ).toBe(1);
      expect(await gateway().transcript(first.sessionId)).toEqual([
        { role: "user", content: "before the crash" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "interrupted by kill -9" },
        { role: "system", content: CONTINUATION_NOTE },
        { role: "assistant", content: "picking up where I left off" },
        { role: "user", content: "are you back?" },
        { role: "assistant", content: "yes, back" },
      ]);
      expect(await routeOf(gateway(), first.sessionKey)).toMatchObject({ resume_pending: false });
    });

    it("records the clean-shutdown marker on a SIGTERM whose drain finishes; the next start marks nothing", async () => {
      const sent = await gateway().say(dm("7101"), "hello");
      expect(await gateway().stop("SIGTERM")).toEqual({ code: 0, signal: null });
      const marker = await gateway().withDb((db) =>
        db
          .selectFrom("gateway_instances" as never)
          .selectAll()
          .execute(),
      );
      expect(marker).toEqual([
        expect.objectContaining({ instance: "default", clean_shutdown_at: expect.any(Date) }),
      ]);
      await gateway().start();
      expect(restoreLine(gateway())).toMatchObject({
        previousRun: "clean",
        marked: 0,
        suspended: [],
        continuing: [],
      });
      expect(await routeOf(gateway(), sent.sessionKey)).toMatchObject({
        resume_pending: false,
        suspended: false,
      });
      expect(await gateway().metric("engram_gateway_starts_total", { previous_run: "clean" })).toBe(1);
    });

    it("suspends a session whose turn is killed by three restarts in a row; the next message starts a new session", async () => {
      const first = await gateway().say(dm("7201"), "hello");
      await turnInFlight(gateway(), "7201", "a turn that never finishes");
      await gateway().stop("SIGKILL");
      for (const streak of [1, 2]) {
        // Each start queues the continuation; the model holds it and the process is killed again.
        const seen = standIn.server.requests.length;
        standIn.server.script({ text: "never delivered", delayMs: 60_000 });
        await gateway().start();
        // Keys of earlier tests were active within the window too; their turns had completed.
        expect(
          restoreLine(gateway()).continuing.map((c) => c.sessionKey),
          `start ${streak}`,
        ).toContain(first.sessionKey);
        await modelRequestArrives(seen);
        await gateway().stop("SIGKILL");
      }
      await gateway().start();
      const third = restoreLine(gateway());
      expect(third).toMatchObject({ previousRun: "unclean", suspended: [first.sessionKey] });
      expect(third.continuing.map((c) => c.sessionKey)).not.toContain(first.sessionKey);
      expect(await gateway().metric("engram_gateway_restart_suspended_total")).toBe(1);
      const next = await gateway().say(dm("7201"), "hello again");
      expect(next.sessionId).not.toBe(first.sessionId);
      expect(next.autoReset).toEqual({ reason: "suspended", hadActivity: true });
      // The old transcript is intact: every saved message, the interrupted user turns included.
      const old = await gateway().transcript(first.sessionId);
      expect(old.slice(0, 3)).toEqual([
        { role: "user", content: "hello" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "a turn that never finishes" },
      ]);
      expect(old.slice(3).every((m) => m.role === "system" && m.content === CONTINUATION_NOTE)).toBe(true);
    });
  },
  { manualStart: true },
);
