/**
 * Regression (issue 13, item 5): memory left uncommitted for ever.
 *
 * Generations owned by an agent whose process died could be committed only by a caller that happened
 * to hold an agent for the session; a boundary or a drain without one answered `no_owner`, logged
 * nothing and forgot the work. A failed commit was logged only if the host passed a logger, and was
 * never retried unless another boundary came. Now the coordinator adopts orphaned work with an agent
 * its host builds (`adoptAgent`), retries failed commits with a bounded backoff, commits a session
 * left for good segment after segment (`untilClean`), lists the sessions nobody here serves for a
 * sweep (`unattendedSessions`) and can declare a dead predecessor's registrations over at once.
 */
import { describe, expect, it } from "vitest";
import type { Logger } from "../memory/logger.js";
import { MemoryCommitFailedError } from "./commit-errors.js";
import type { CommittableAgent } from "./committable-agent.js";
import { InMemoryCommitLedger } from "./in-memory-commit-ledger.js";
import { MemoryCommitCoordinator, type MemoryCommitCoordinatorProps } from "./memory-commit-coordinator.js";
import { manualClock } from "./test-support/commit-ledger-conformance.js";
import { RecordingLedger, ScriptedAgent, sleep } from "./test-support/commit-test-kit.js";

interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** A crashed process: its agent completed turns in `sessions`, then it vanished without retiring. */
function crashedProcess(ledger: InMemoryCommitLedger | RecordingLedger, sessions: Record<string, number>) {
  const dead = new MemoryCommitCoordinator({ ledger, instanceId: "gw:default:dead" });
  for (const [sessionId, turns] of Object.entries(sessions)) {
    dead.registerAgent(sessionId, new ScriptedAgent(`dead-${sessionId}`));
    for (let turn = 0; turn < turns; turn++) dead.markTurnCompleted(sessionId);
  }
  // Nothing retires it: its registration lapses after its TTL, or a successor reaps it.
  return dead;
}

function heir(ledger: InMemoryCommitLedger | RecordingLedger, props: MemoryCommitCoordinatorProps = {}) {
  return new MemoryCommitCoordinator({
    ledger,
    instanceId: "gw:default:heir",
    pollMinMs: 1,
    pollMaxMs: 5,
    ...props,
  });
}

describe("MemoryCommitCoordinator: orphaned work", () => {
  it("adopts a dead process's generations at a boundary with the agent adoptAgent builds", async () => {
    const ledger = new RecordingLedger(new InMemoryCommitLedger());
    crashedProcess(ledger, { s: 2 });
    const built: string[] = [];
    const committer = new ScriptedAgent("committer");
    const coordinator = heir(ledger, {
      adoptAgent: (sessionId) => {
        built.push(sessionId);
        return committer;
      },
    });
    await coordinator.reapInstances("gw:default:");
    expect(await coordinator.tryCommitSession("s", { timeoutMs: 1_000 })).toBe("committed");
    expect(built).toEqual(["s"]);
    expect(committer.calls).toBe(1);
    expect(ledger.coverage("s", 2)).toEqual([1, 1]);
    expect(ledger.completed[0]?.owner.instanceId).toBe("gw:default:heir");
    await coordinator.close();
  });

  it("answers no_owner and says so in the log when nothing can adopt the work", async () => {
    const ledger = new InMemoryCommitLedger();
    crashedProcess(ledger, { s: 1 });
    const { logger, lines } = recordingLogger();
    const coordinator = heir(ledger, { adoptAgent: () => undefined, logger });
    await coordinator.reapInstances("gw:default:");
    expect(await coordinator.tryCommitSession("s")).toBe("no_owner");
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", fields: { sessionId: "s" } }));
    expect(ledger.hasUncommittedWork("s")).toBe(true);
    await coordinator.close();
  });

  it("does not adopt the work of a process that is still live", async () => {
    const ledger = new InMemoryCommitLedger();
    const live = new MemoryCommitCoordinator({ ledger, instanceId: "gw:other:live" });
    live.registerAgent("s", new ScriptedAgent("live"));
    await live.markTurnCompleted("s");
    let asked = 0;
    const coordinator = heir(ledger, {
      adoptAgent: () => {
        asked++;
        return new ScriptedAgent("thief");
      },
    });
    await coordinator.reapInstances("gw:default:");
    expect(await coordinator.tryCommitSession("s")).toBe("foreign_owner");
    expect(asked).toBe(0);
    await Promise.all([live.close(), coordinator.close()]);
  });

  it("drains a dead process's work on a clean stop, including sessions nobody came back to", async () => {
    const ledger = new RecordingLedger(new InMemoryCommitLedger());
    crashedProcess(ledger, { a: 2, b: 1, c: 3 });
    const coordinator = heir(ledger, {
      adoptAgent: (sessionId) => new ScriptedAgent(`adopted-${sessionId}`),
    });
    await coordinator.reapInstances("gw:default:");
    const report = await coordinator.drainAll({ deadlineMs: 5_000 });
    expect(report).toMatchObject({ drained: true, remaining: [] });
    expect(await ledger.dirtySessions()).toEqual([]);
    expect([ledger.coverage("a", 2), ledger.coverage("b", 1), ledger.coverage("c", 3)]).toEqual([
      [1, 1],
      [1],
      [1, 1, 1],
    ]);
    await coordinator.close();
  });

  it("adopts a dead process's work once its liveness lapsed, without a reap", () => {
    const clock = manualClock();
    const ledger = new InMemoryCommitLedger({ clock });
    const dead = new MemoryCommitCoordinator({ ledger, clock, instanceId: "dead", instanceTtlMs: 1_000 });
    dead.registerAgent("s", new ScriptedAgent("gone"));
    dead.markTurnCompleted("s");
    const committer = new ScriptedAgent("committer");
    const coordinator = new MemoryCommitCoordinator({
      ledger,
      clock,
      instanceId: "live",
      instanceTtlMs: 1_000,
      adoptAgent: () => committer,
    });
    expect(coordinator.tryCommitSession("s")).toBe("foreign_owner");
    clock.advance(1_001);
    return Promise.resolve(coordinator.tryCommitSession("s")).then(async (outcome) => {
      expect(outcome).toBe("committed");
      expect(committer.calls).toBe(1);
      await Promise.all([dead.close(), coordinator.close()]);
    });
  });

  it("lists as unattended the dirty sessions it could commit but serves with no agent", async () => {
    const ledger = new InMemoryCommitLedger();
    crashedProcess(ledger, { orphan: 1 });
    const coordinator = heir(ledger);
    await coordinator.reapInstances("gw:default:");
    coordinator.registerAgent("served", new ScriptedAgent("served"));
    await coordinator.markTurnCompleted("served");
    const letGo = new ScriptedAgent("let-go").plan("throw");
    coordinator.registerAgent("let-go", letGo);
    await coordinator.markTurnCompleted("let-go");
    expect(await coordinator.tryCommitSession("let-go")).toBe("failed");
    coordinator.unregisterAgent("let-go");
    const foreign = new MemoryCommitCoordinator({ ledger, instanceId: "gw:other:live" });
    foreign.registerAgent("foreign", new ScriptedAgent("foreign"));
    await foreign.markTurnCompleted("foreign");
    expect((await coordinator.unattendedSessions()).sort()).toEqual(["let-go", "orphan"]);
    expect(coordinator.hasCurrentAgent("served")).toBe(true);
    expect(coordinator.hasCurrentAgent("let-go")).toBe(false);
    await Promise.all([foreign.close(), coordinator.close()]);
  });
});

describe("MemoryCommitCoordinator: a session left for good", () => {
  it("commits every segment with untilClean, whoever of this process owned it", async () => {
    const ledger = new RecordingLedger(new InMemoryCommitLedger());
    crashedProcess(ledger, { s: 2 });
    const committer = new ScriptedAgent("committer");
    const coordinator = heir(ledger, { adoptAgent: () => committer });
    await coordinator.reapInstances("gw:default:");
    const current = new ScriptedAgent("current");
    coordinator.registerAgent("s", current);
    await coordinator.markTurnCompleted("s");
    const other = new ScriptedAgent("other");
    await coordinator.markTurnCompleted("s", { agent: other });
    expect(await coordinator.tryCommitSession("s", { untilClean: true, timeoutMs: 1_000 })).toBe("committed");
    expect(ledger.coverage("s", 4)).toEqual([1, 1, 1, 1]);
    // The orphaned segment was adopted by the session's current agent (`other`, since its turn),
    // which holds the history: nothing had to be built for it.
    expect([committer.calls, current.calls, other.calls]).toEqual([0, 1, 2]);
    expect(await coordinator.tryCommitSession("s", { untilClean: true })).toBe("clean");
    await coordinator.close();
  });

  it("stops at the first segment it cannot commit and says why", async () => {
    const ledger = new InMemoryCommitLedger();
    const coordinator = heir(ledger);
    const failing = new ScriptedAgent("failing").plan("ok", "throw");
    coordinator.registerAgent("s", failing);
    await coordinator.markTurnCompleted("s");
    await coordinator.markTurnCompleted("s", { agent: new ScriptedAgent("second") });
    const third = new ScriptedAgent("third").plan("throw");
    await coordinator.markTurnCompleted("s", { agent: third });
    expect(await coordinator.tryCommitSession("s", { untilClean: true })).toBe("failed");
    expect(ledger.hasUncommittedWork("s")).toBe(true);
    await coordinator.close();
  });
});

describe("MemoryCommitCoordinator: failed commits", () => {
  it("logs a failed commit with the session and the cause, and retries it with backoff until it succeeds", async () => {
    const ledger = new RecordingLedger(new InMemoryCommitLedger());
    const { logger, lines } = recordingLogger();
    const coordinator = heir(ledger, { logger, retry: { minMs: 5, maxMs: 20, attempts: 5 } });
    const agent = new ScriptedAgent("flaky").plan("throw", "throw", "ok");
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    expect(await coordinator.tryCommitSession("s")).toBe("failed");
    const failure = lines.find((line) => line.level === "error");
    expect(failure?.fields).toMatchObject({ sessionId: "s", err: expect.any(Error) });
    const deadline = Date.now() + 2_000;
    while (ledger.inner.hasUncommittedWork("s") && Date.now() < deadline) await sleep(5);
    expect(ledger.inner.hasUncommittedWork("s")).toBe(false);
    expect(agent.calls).toBe(3);
    const scheduled = lines.filter((line) => line.message === "memory commit: retry scheduled");
    expect(scheduled.map((line) => line.fields.delayMs)).toEqual([5, 10]);
    await coordinator.close();
  });

  it("names what failed in a failed commit's message, since a log shows no error inside an array", () => {
    const error = new MemoryCommitFailedError("s", [new Error("holographic: relation missing"), undefined]);
    expect(error.code).toBe("MEMORY_COMMIT_FAILED");
    expect(error.message).toContain("holographic: relation missing");
  });

  it("stops retrying after the configured attempts and leaves the work to the next boundary", async () => {
    const ledger = new InMemoryCommitLedger();
    const { logger, lines } = recordingLogger();
    const coordinator = heir(ledger, { logger, retry: { minMs: 2, maxMs: 4, attempts: 3 } });
    const agent = new ScriptedAgent("broken");
    agent.fallback = "throw";
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    expect(await coordinator.tryCommitSession("s")).toBe("failed");
    const deadline = Date.now() + 2_000;
    while (agent.calls < 4 && Date.now() < deadline) await sleep(2);
    await sleep(40);
    expect(agent.calls).toBe(4);
    expect(lines.filter((line) => line.message.includes("retries used up"))).toHaveLength(1);
    // The work is kept: the next boundary commits it with the same agent.
    agent.fallback = "ok";
    expect(await coordinator.tryCommitSession("s")).toBe("committed");
    expect(ledger.hasUncommittedWork("s")).toBe(false);
    await coordinator.close();
  });

  it("retries a failed adoption too, and a close stops every pending retry", async () => {
    const ledger = new InMemoryCommitLedger();
    crashedProcess(ledger, { s: 1, t: 1 });
    let builds = 0;
    const committer: CommittableAgent = { commitMemorySession: () => undefined };
    const coordinator = heir(ledger, {
      retry: { minMs: 5, maxMs: 5, attempts: 3 },
      adoptAgent: (sessionId) => {
        if (sessionId === "s" && ++builds === 1) throw new Error("transcript unreadable");
        if (sessionId === "t") throw new Error("never readable");
        return committer;
      },
    });
    await coordinator.reapInstances("gw:default:");
    expect(await coordinator.tryCommitSession("s")).toBe("failed");
    expect(await coordinator.tryCommitSession("t")).toBe("failed");
    const deadline = Date.now() + 2_000;
    while (ledger.hasUncommittedWork("s") && Date.now() < deadline) await sleep(2);
    expect(ledger.hasUncommittedWork("s")).toBe(false);
    await coordinator.close();
    const afterClose = builds;
    await sleep(30);
    expect(builds).toBe(afterClose);
    expect(ledger.hasUncommittedWork("t")).toBe(true);
  });
});
