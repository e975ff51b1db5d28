import { describe, expect, it } from "vitest";
import { InMemoryCommitLedger } from "./in-memory-commit-ledger.js";
import { MemoryCommitCoordinator } from "./memory-commit-coordinator.js";
import { manualClock } from "./test-support/commit-ledger-conformance.js";
import { deferred, RecordingLedger, ScriptedAgent, settle, sleep } from "./test-support/commit-test-kit.js";

function setup(props: { asyncHops?: number } = {}) {
  const ledger = new RecordingLedger(new InMemoryCommitLedger(), props);
  const coordinator = new MemoryCommitCoordinator({ ledger, pollMinMs: 1, pollMaxMs: 5 });
  return { ledger, coordinator };
}

describe("MemoryCommitCoordinator", () => {
  it("treats empty session ids as no-ops", async () => {
    const { coordinator, ledger } = setup();
    const agent = new ScriptedAgent("a");
    coordinator.registerAgent("", agent);
    coordinator.unregisterAgent("");
    expect(coordinator.markTurnCompleted("", { agent })).toBe(0);
    expect(coordinator.hasUncommittedWork("")).toBe(false);
    expect(coordinator.commitSessionMemory("")).toBe(false);
    expect(coordinator.commitSessionMemory("", { wait: true, timeoutMs: 10 })).toBe(false);
    expect(coordinator.markTurnCompleted(undefined as unknown as string)).toBe(0);
    expect(coordinator.commitSessionMemory(null as unknown as string)).toBe(false);
    expect(await ledger.dirtySessions()).toEqual([]);
    expect(agent.calls).toBe(0);
  });

  it("commits only completed turns", async () => {
    const { coordinator } = setup();
    const agent = new ScriptedAgent("a");
    coordinator.registerAgent("s", agent);
    expect(coordinator.hasUncommittedWork("s")).toBe(false);
    expect(coordinator.commitSessionMemory("s")).toBe(false);
    expect(agent.calls).toBe(0);
    expect(coordinator.markTurnCompleted("s")).toBe(1);
    expect(coordinator.hasUncommittedWork("s")).toBe(true);
    expect(coordinator.commitSessionMemory("s")).toBe(true);
    expect(agent.calls).toBe(1);
    expect(coordinator.hasUncommittedWork("s")).toBe(false);
    expect(coordinator.commitSessionMemory("s")).toBe(false);
    expect(agent.calls).toBe(1);
  });

  it("stays synchronous with the in-memory ledger and a synchronous agent", () => {
    const coordinator = new MemoryCommitCoordinator();
    coordinator.registerAgent("s", new ScriptedAgent("a"));
    const generation = coordinator.markTurnCompleted("s");
    const committed = coordinator.commitSessionMemory("s");
    expect(generation).toBe(1);
    expect(committed).toBe(true);
    expect(coordinator.hasUncommittedWork("s")).toBe(false);
  });

  it("keeps a turn completed while a commit was in flight uncommitted, and commits it next time", async () => {
    const { coordinator, ledger } = setup();
    const gate = deferred();
    const agent = new ScriptedAgent("a").plan({ gate });
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    await coordinator.markTurnCompleted("s");
    const first = coordinator.commitSessionMemory("s");
    expect(await coordinator.markTurnCompleted("s")).toBe(3);
    gate.resolve();
    expect(await first).toBe(true);
    expect(await coordinator.hasUncommittedWork("s")).toBe(true);
    expect(ledger.coverage("s", 3)).toEqual([1, 1, 0]);
    expect(await coordinator.commitSessionMemory("s")).toBe(true);
    expect(ledger.coverage("s", 3)).toEqual([1, 1, 1]);
    expect(agent.calls).toBe(2);
    expect(await coordinator.hasUncommittedWork("s")).toBe(false);
  });

  it("keeps the generation and its owner when a commit fails, and retries with the same agent after a replacement", async () => {
    const { coordinator, ledger } = setup();
    const first = new ScriptedAgent("first").plan("throw");
    const second = new ScriptedAgent("second");
    coordinator.registerAgent("s", first);
    await coordinator.markTurnCompleted("s");
    expect(await coordinator.commitSessionMemory("s")).toBe(false);
    expect(await coordinator.hasUncommittedWork("s")).toBe(true);
    coordinator.registerAgent("s", second);
    await coordinator.markTurnCompleted("s");
    expect(await coordinator.commitSessionMemory("s")).toBe(true);
    expect([first.calls, first.successes, second.calls]).toEqual([2, 1, 0]);
    expect(await coordinator.commitSessionMemory("s")).toBe(true);
    expect(second.calls).toBe(1);
    expect(ledger.completed.map((c) => [c.start, c.end])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("does not let a replacement agent take over older dirty generations", async () => {
    const { coordinator } = setup();
    const old = new ScriptedAgent("old");
    const replacement = new ScriptedAgent("replacement");
    coordinator.registerAgent("s", old);
    await coordinator.markTurnCompleted("s");
    await coordinator.markTurnCompleted("s");
    await coordinator.markTurnCompleted("s", { agent: replacement });
    expect(await coordinator.commitSessionMemory("s", { agent: replacement })).toBe(true);
    expect([old.calls, replacement.calls]).toEqual([1, 0]);
    expect(await coordinator.commitSessionMemory("s")).toBe(true);
    expect([old.calls, replacement.calls]).toEqual([1, 1]);
  });

  it("keeps the owner of dirty generations after unregisterAgent, so failed work stays retryable", async () => {
    const { coordinator } = setup();
    const agent = new ScriptedAgent("a").plan("throw");
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    coordinator.unregisterAgent("s");
    expect(await coordinator.commitSessionMemory("s")).toBe(false);
    coordinator.registerAgent("s", new ScriptedAgent("newcomer"));
    coordinator.unregisterAgent("s");
    expect(await coordinator.commitSessionMemory("s")).toBe(true);
    expect([agent.calls, agent.successes]).toEqual([2, 1]);
  });

  it("commits an ownerless turn only with an agent, which then owns it through a failure", async () => {
    const { coordinator } = setup();
    await coordinator.markTurnCompleted("s");
    expect(await coordinator.tryCommitSession("s")).toBe("no_owner");
    const helper = new ScriptedAgent("helper").plan("throw");
    expect(await coordinator.commitSessionMemory("s", { agent: helper })).toBe(false);
    const other = new ScriptedAgent("other");
    expect(await coordinator.commitSessionMemory("s", { agent: other })).toBe(true);
    expect([helper.calls, helper.successes, other.calls]).toEqual([2, 1, 0]);
  });

  it("lets exactly one of many concurrent callers run the agent; the others get false at once", async () => {
    const { coordinator } = setup();
    const gate = deferred();
    const agent = new ScriptedAgent("a").plan({ gate });
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    const callers = Array.from({ length: 16 }, () => coordinator.commitSessionMemory("s"));
    const early = await Promise.all(callers.slice(1));
    expect(early.every((r) => r === false)).toBe(true);
    expect(agent.calls).toBe(1);
    gate.resolve();
    expect(await callers[0]).toBe(true);
    expect(agent.maxRunning).toBe(1);
  });

  it("lets a waiting caller commit what was completed during the in-flight commit", async () => {
    const { coordinator, ledger } = setup();
    const gate = deferred();
    const agent = new ScriptedAgent("a").plan({ gate });
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    const first = coordinator.commitSessionMemory("s");
    await coordinator.markTurnCompleted("s");
    let waiterDone = false;
    const waiter = Promise.resolve(coordinator.commitSessionMemory("s", { wait: true })).then((r) => {
      waiterDone = true;
      return r;
    });
    await sleep(10);
    expect(waiterDone).toBe(false);
    gate.resolve();
    expect(await first).toBe(true);
    expect(await waiter).toBe(true);
    expect(agent.calls).toBe(2);
    expect(agent.maxRunning).toBe(1);
    expect(ledger.coverage("s", 2)).toEqual([1, 1]);
  });

  it("answers false to a waiter when the in-flight commit left nothing to commit", async () => {
    const { coordinator } = setup();
    const gate = deferred();
    coordinator.registerAgent("s", new ScriptedAgent("a").plan({ gate }));
    await coordinator.markTurnCompleted("s");
    const first = coordinator.commitSessionMemory("s");
    const waiter = coordinator.commitSessionMemory("s", { wait: true, timeoutMs: 5_000 });
    gate.resolve();
    expect(await first).toBe(true);
    expect(await waiter).toBe(false);
  });

  it("gives up waiting after timeoutMs while the in-flight commit hangs", async () => {
    const { coordinator } = setup();
    const agent = new ScriptedAgent("a").plan("hang");
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    void coordinator.commitSessionMemory("s");
    const started = Date.now();
    expect(await coordinator.tryCommitSession("s", { timeoutMs: 40 })).toBe("timed_out");
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(await coordinator.commitSessionMemory("s", { wait: false, timeoutMs: 1_000 })).toBe(false);
    expect(agent.calls).toBe(1);
  });

  it("waits by polling with a ledger that cannot notify", async () => {
    const { coordinator, ledger } = setup({ asyncHops: 2 });
    expect(ledger.waitForRelease).toBeUndefined();
    const gate = deferred();
    const agent = new ScriptedAgent("a").plan({ gate });
    coordinator.registerAgent("s", agent);
    await coordinator.markTurnCompleted("s");
    const first = coordinator.commitSessionMemory("s");
    await settle();
    await coordinator.markTurnCompleted("s");
    const waiter = coordinator.commitSessionMemory("s", { timeoutMs: 2_000 });
    setTimeout(() => gate.resolve(), 15);
    expect(await first).toBe(true);
    expect(await waiter).toBe(true);
    expect(ledger.coverage("s", 2)).toEqual([1, 1]);
  });

  it("rejects a malformed timeout with INVALID_ARGUMENT", () => {
    const { coordinator } = setup();
    expect(() => coordinator.commitSessionMemory("s", { timeoutMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => new MemoryCommitCoordinator({ leaseMs: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("renews the lease of a slow commit so another process cannot take it over", async () => {
    // Ledger time is manual: each round waits for a renewal, then moves time 50 ms on, within the
    // 60 ms lease. Without renewals the second round would find the lease expired.
    const clock = manualClock();
    const shared = new RecordingLedger(new InMemoryCommitLedger({ clock }));
    let renewals = 0;
    const renew = shared.renewCommit.bind(shared);
    shared.renewCommit = (claim, leaseMs) => {
      renewals++;
      return renew(claim, leaseMs);
    };
    const one = new MemoryCommitCoordinator({ ledger: shared, clock, leaseMs: 60, instanceId: "one" });
    const two = new MemoryCommitCoordinator({ ledger: shared, clock, leaseMs: 60, instanceId: "two" });
    const gate = deferred();
    one.registerAgent("s", new ScriptedAgent("slow").plan({ gate }));
    one.markTurnCompleted("s");
    const running = one.commitSessionMemory("s");
    two.registerAgent("s", new ScriptedAgent("intruder"));
    two.markTurnCompleted("s");
    for (let round = 0; round < 4; round++) {
      const seen = renewals;
      for (let i = 0; i < 500 && renewals === seen; i++) await sleep(2);
      expect(renewals).toBeGreaterThan(seen);
      clock.advance(50);
      expect(await two.tryCommitSession("s")).toBe("in_flight");
    }
    gate.resolve();
    expect(await running).toBe(true);
    await one.close();
    await two.close();
  });

  it("never commits another live process's generations, and adopts them once it retires", async () => {
    const shared = new InMemoryCommitLedger();
    const one = new MemoryCommitCoordinator({ ledger: shared, instanceId: "one" });
    const two = new MemoryCommitCoordinator({ ledger: shared, instanceId: "two" });
    const mine = new ScriptedAgent("mine");
    const theirs = new ScriptedAgent("theirs");
    one.registerAgent("s", mine);
    one.markTurnCompleted("s");
    two.registerAgent("s", theirs);
    expect(two.tryCommitSession("s")).toBe("foreign_owner");
    expect((await two.drainAll({ deadlineMs: 500 })).sessions).toEqual([]);
    expect(theirs.calls).toBe(0);
    await one.close();
    expect(two.commitSessionMemory("s")).toBe(true);
    expect([mine.calls, theirs.calls]).toEqual([0, 1]);
    await two.close();
  });

  it("serialises commits of two processes sharing a ledger, waking the waiter on release", async () => {
    const shared = new InMemoryCommitLedger();
    const one = new MemoryCommitCoordinator({ ledger: shared, instanceId: "one" });
    const two = new MemoryCommitCoordinator({ ledger: shared, instanceId: "two" });
    const gate = deferred();
    const agent = new ScriptedAgent("a").plan({ gate });
    one.registerAgent("s", agent);
    one.markTurnCompleted("s");
    const running = one.commitSessionMemory("s");
    two.markTurnCompleted("s", { agent: new ScriptedAgent("b") });
    const waiter = two.tryCommitSession("s", { wait: true });
    setTimeout(() => gate.resolve(), 10);
    expect(await running).toBe(true);
    expect(await waiter).toBe("committed");
    expect(shared.hasUncommittedWork("s")).toBe(false);
    await one.close();
    await two.close();
  });
});

describe("MemoryCommitCoordinator.drainAll", () => {
  it("returns at the deadline when a commit hangs, reporting what is left", async () => {
    const { coordinator } = setup();
    const hanging = new ScriptedAgent("hanging").plan("hang");
    coordinator.registerAgent("stuck", hanging);
    coordinator.markTurnCompleted("stuck");
    for (const id of ["x", "y"]) {
      coordinator.registerAgent(id, new ScriptedAgent(id));
      coordinator.markTurnCompleted(id);
      coordinator.markTurnCompleted(id);
    }
    const started = Date.now();
    const report = await coordinator.drainAll({ deadlineMs: 80 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(70);
    expect(took).toBeLessThan(1_000);
    expect(report.deadlineExceeded).toBe(true);
    expect(report.drained).toBe(false);
    expect(report.remaining).toEqual(["stuck"]);
    const byId = Object.fromEntries(report.sessions.map((s) => [s.sessionId, s]));
    expect(byId.stuck?.status).toBe("in_flight");
    expect(byId.x).toMatchObject({ status: "drained", commits: 1 });
    expect(byId.y).toMatchObject({ status: "drained", commits: 1 });
    expect(coordinator.hasUncommittedWork("stuck")).toBe(true);
  });

  it("returns at the deadline even when it is waiting on a hanging commit started by someone else", async () => {
    const { coordinator } = setup({ asyncHops: 1 });
    coordinator.registerAgent("stuck", new ScriptedAgent("hanging").plan("hang"));
    await coordinator.markTurnCompleted("stuck");
    void coordinator.commitSessionMemory("stuck");
    await settle();
    const report = await coordinator.drainAll({ deadlineMs: 50 });
    expect(report.deadlineExceeded).toBe(true);
    expect(report.sessions).toMatchObject([{ sessionId: "stuck", status: "in_flight" }]);
  });

  it("commits every segment of every session, reports failures per session and stops when no pass progresses", async () => {
    const { coordinator, ledger } = setup();
    const failing = new ScriptedAgent("failing");
    failing.fallback = "throw";
    coordinator.registerAgent("bad", failing);
    coordinator.markTurnCompleted("bad");
    const first = new ScriptedAgent("first");
    const second = new ScriptedAgent("second").plan({ asyncOk: 3 });
    coordinator.registerAgent("multi", first);
    coordinator.markTurnCompleted("multi");
    coordinator.markTurnCompleted("multi", { agent: second });
    coordinator.markTurnCompleted("multi", { agent: first });
    coordinator.registerAgent("good", new ScriptedAgent("good").plan({ asyncOk: 2 }));
    coordinator.markTurnCompleted("good");
    coordinator.markTurnCompleted("orphan"); // ownerless: nobody can commit it
    const report = await coordinator.drainAll({ deadlineMs: 5_000 });
    expect(report.deadlineExceeded).toBe(false);
    expect(report.drained).toBe(false);
    const byId = Object.fromEntries(report.sessions.map((s) => [s.sessionId, s]));
    expect(byId.multi).toMatchObject({ status: "drained", commits: 3 });
    expect(byId.good).toMatchObject({ status: "drained", commits: 1 });
    expect(byId.bad?.status).toBe("failed");
    expect(byId.bad?.error?.code).toBe("MEMORY_COMMIT_FAILED");
    expect(byId.bad?.failures).toBeGreaterThanOrEqual(1);
    expect(byId.orphan?.status).toBe("no_owner");
    expect(report.remaining.sort()).toEqual(["bad", "orphan"]);
    expect(ledger.coverage("multi", 3)).toEqual([1, 1, 1]);
    expect([first.calls, second.calls]).toEqual([2, 1]);
  });

  it("waits for a commit already in flight and then commits what it left", async () => {
    const { coordinator, ledger } = setup();
    const gate = deferred();
    coordinator.registerAgent("s", new ScriptedAgent("a").plan({ gate }));
    coordinator.markTurnCompleted("s");
    const running = coordinator.commitSessionMemory("s");
    coordinator.markTurnCompleted("s");
    setTimeout(() => gate.resolve(), 15);
    const report = await coordinator.drainAll({ deadlineMs: 5_000 });
    expect(await running).toBe(true);
    expect(report).toMatchObject({ drained: true, deadlineExceeded: false, remaining: [] });
    expect(ledger.coverage("s", 2)).toEqual([1, 1]);
  });

  it("reports a drained, empty result when there is nothing to commit", async () => {
    const { coordinator } = setup();
    const report = await coordinator.drainAll({ deadlineMs: 1_000 });
    expect(report).toMatchObject({
      drained: true,
      deadlineExceeded: false,
      passes: 0,
      sessions: [],
      remaining: [],
    });
  });
});

describe("MemoryCommitCoordinator with a manual clock", () => {
  it("lets a live process adopt generations of a process whose heartbeat lapsed", () => {
    const clock = manualClock();
    const shared = new InMemoryCommitLedger({ clock });
    const dead = new MemoryCommitCoordinator({
      ledger: shared,
      clock,
      instanceId: "dead",
      instanceTtlMs: 1_000,
    });
    const live = new MemoryCommitCoordinator({
      ledger: shared,
      clock,
      instanceId: "live",
      instanceTtlMs: 1_000,
    });
    dead.registerAgent("s", new ScriptedAgent("gone"));
    dead.markTurnCompleted("s");
    const heir = new ScriptedAgent("heir");
    live.registerAgent("s", heir);
    expect(live.tryCommitSession("s")).toBe("foreign_owner");
    clock.advance(1_001);
    expect(live.commitSessionMemory("s")).toBe(true);
    expect(heir.calls).toBe(1);
    void dead.close();
    void live.close();
  });
});
