import { describe, expect, it } from "vitest";
import { InMemorySessionStateStore } from "./in-memory-session-state-store.js";
import type { MemoryExtractor } from "./memory-extractor.js";
import { SessionBufferManager, type SessionBufferManagerProps } from "./session-buffer-manager.js";
import type { SessionStateSnapshot, SessionStateStore } from "./session-state-store.js";
import { deferred, manualClock, ScriptedArchiveStore, settle } from "./test-support/harness.js";

/** A state store whose calls can be held or failed, counting loads. */
class ScriptedStateStore implements SessionStateStore {
  readonly inner = new InMemorySessionStateStore();
  loads = 0;
  saveHook: (() => unknown) | undefined;
  async load(sessionId: string) {
    this.loads += 1;
    await settle(3);
    return this.inner.load(sessionId);
  }
  async save(snapshot: SessionStateSnapshot) {
    await this.saveHook?.();
    return this.inner.save(snapshot);
  }
  async delete(sessionId: string) {
    return this.inner.delete(sessionId);
  }
}

function setup(props: Partial<SessionBufferManagerProps> = {}) {
  const clock = manualClock();
  const stateStore = new ScriptedStateStore();
  const archiveStore = new ScriptedArchiveStore(clock);
  const make = (extra: Partial<SessionBufferManagerProps> = {}) =>
    new SessionBufferManager({ clock, sessionStateStore: stateStore, archiveStore, ...props, ...extra });
  return { clock, stateStore, archiveStore, manager: make(), make };
}

describe("SessionBufferManager session state", () => {
  it("persists task, commitments, window and counters on commit and restores them in a new manager", async () => {
    const { manager, make, stateStore } = setup();
    await manager.addMessage("s1", { role: "user", content: "Please migrate the billing tables." });
    await manager.updateWindowState("s1", {
      openLoops: ["send the rollout plan"],
      recentDecisions: ["use Postgres 16"],
    });
    await manager.addCommitment("s1", {
      content: "never drop the audit table",
      kind: "constraint",
      status: "fulfilled",
    });
    await manager.extractPending("s1");
    const result = await manager.commit("s1", { wait: true });
    expect(result.accepted && result.task.status).toBe("completed");
    expect(await stateStore.inner.load("s1")).toBeDefined();

    const restarted = make();
    const state = await restarted.getSessionState("s1");
    expect(state.task.objective).toBe("Please migrate the billing tables.");
    expect(state.commitments.map((c) => [c.kind, c.status, c.content])).toEqual([
      ["constraint", "fulfilled", "never drop the audit table"],
      ["loop", "open", "send the rollout plan"],
      ["decision", "fulfilled", "use Postgres 16"],
    ]);
    const window = await restarted.getWindowState("s1");
    expect(window.activeTask).toBe("Please migrate the billing tables.");
    expect(window.openLoops).toEqual(["send the rollout plan"]);
    expect(window.confirmedConstraints).toEqual(["never drop the audit table"]);
    expect(await restarted.getSession("s1")).toMatchObject({ commitCount: 1, messageCount: 0 });
    expect((await restarted.getExtractionState("s1")).summary).toBe("");
  });

  it("does not duplicate commitments promoted twice and keeps a deliberate objective over the heuristic", async () => {
    const { manager } = setup();
    await manager.updateTaskState("s1", { objective: "Ship v2", blockers: ["waiting on review"] });
    await manager.addMessage("s1", { role: "user", content: "Can you help with the docs?" });
    await manager.updateWindowState("s1", { openLoops: ["write docs"] });
    expect(await manager.saveSessionState("s1")).toBe(true);
    expect(await manager.saveSessionState("s1")).toBe(true);
    const state = await manager.getSessionState("s1");
    expect(state.task).toEqual({ objective: "Ship v2", blockers: ["waiting on review"] });
    expect(state.commitments).toHaveLength(1);
    await expect(manager.addCommitment("s1", { content: "  ", kind: "loop" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("loads saved state once even when the first accesses race", async () => {
    const { manager, make, stateStore } = setup();
    await manager.updateTaskState("s1", { objective: "keep" });
    await manager.saveSessionState("s1");
    const restarted = make();
    stateStore.loads = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => restarted.addMessage("s1", { role: "user", content: `m${i}` })),
    );
    expect(stateStore.loads).toBe(1);
    expect(results.map((r) => r.messageCount).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await restarted.getSessionState("s1")).task.objective).toBe("keep");
  });

  it("deletes a session's buffer and saved state, so it starts empty next time", async () => {
    const { manager, stateStore } = setup();
    await manager.addMessage("s1", { role: "user", content: "Please forget me." });
    expect(await manager.saveSessionState("s1")).toBe(true);
    expect(await manager.deleteSession("s1")).toBe(true);
    expect(manager.hasSession("s1")).toBe(false);
    expect(await stateStore.inner.load("s1")).toBeUndefined();
    expect(await manager.getSession("s1")).toMatchObject({ messageCount: 0 });
    expect((await manager.getSessionState("s1")).task.objective).toBeNull();
    expect(await manager.deleteSession("nobody")).toBe(false);
  });

  it("reports false when there is no state store or the save fails", async () => {
    const bare = new SessionBufferManager({ clock: manualClock() });
    await bare.addMessage("s1", { role: "user", content: "x" });
    expect(await bare.saveSessionState("s1")).toBe(false);
    const { manager, stateStore } = setup();
    await manager.addMessage("s1", { role: "user", content: "x" });
    stateStore.saveHook = () => {
      throw new Error("db down");
    };
    expect(await manager.saveSessionState("s1")).toBe(false);
  });
});

describe("SessionBufferManager idle eviction", () => {
  async function idleSession(manager: SessionBufferManager, sessionId: string) {
    await manager.addMessage(sessionId, { role: "user", content: "hi" });
    await manager.extractPending(sessionId);
  }

  it("evicts sessions idle past the limit after saving their state, and reloads it on next access", async () => {
    const { manager, clock, stateStore } = setup();
    await idleSession(manager, "old");
    await manager.updateTaskState("old", { objective: "finish the report" });
    clock.advance(60_000);
    await idleSession(manager, "fresh");
    clock.advance(1);
    expect(await manager.evictIdleSessions(30_000)).toEqual(["old"]);
    expect(manager.hasSession("old")).toBe(false);
    expect(manager.hasSession("fresh")).toBe(true);
    expect(await stateStore.inner.load("old")).toBeDefined();
    expect((await manager.getSessionState("old")).task.objective).toBe("finish the report");
    expect(await manager.evictIdleSessions(0)).toEqual([]);
  });

  it("measures shouldCompress against the live buffer after a reload, not the evicted one", async () => {
    const { manager, clock } = setup();
    for (let i = 0; i < 5; i++) await manager.addMessage("s1", { role: "user", content: `m${i}` });
    await manager.markCompressed("s1");
    await manager.extractPending("s1");
    clock.advance(60_000);
    expect(await manager.evictIdleSessions(1000)).toEqual(["s1"]);
    await manager.addMessage("s1", { role: "user", content: "again" });
    await manager.addMessage("s1", { role: "user", content: "and again" });
    expect(await manager.shouldCompress("s1", 2, 10_000)).toBe(true);
  });

  it("refuses sessions with unextracted messages, a running commit or a running extraction", async () => {
    const { manager, clock, archiveStore } = setup();
    await manager.addMessage("unextracted", { role: "user", content: "not yet extracted" });
    await idleSession(manager, "committing");
    const gate = deferred();
    archiveStore.hook = (op) => (op === "write" ? gate.promise : undefined);
    const commit = await manager.commit("committing");
    await idleSession(manager, "extracting");
    const { done } = await manager.beginExtraction("extracting");
    clock.advance(120_000);
    expect(await manager.evictIdleSessions(1000)).toEqual([]);
    expect(manager.getPendingSessionIds()).toEqual(["unextracted"]);
    gate.resolve();
    if (commit.accepted) await manager.waitForTask(commit.task.taskId);
    await manager.endExtraction("extracting");
    await done;
    clock.advance(120_000);
    expect((await manager.evictIdleSessions(1000)).sort()).toEqual(["committing", "extracting"]);
  });

  it("keeps a session touched while its state was being saved, and one whose save failed", async () => {
    const { manager, clock, stateStore } = setup();
    await idleSession(manager, "s1");
    clock.advance(10_000);
    const gate = deferred();
    stateStore.saveHook = () => gate.promise;
    const eviction = manager.evictIdleSessions(1000);
    await settle();
    const touch = manager.getSession("s1");
    await settle();
    gate.resolve();
    await touch;
    expect(await eviction).toEqual([]);
    expect(manager.hasSession("s1")).toBe(true);
    stateStore.saveHook = () => {
      throw new Error("db down");
    };
    clock.advance(10_000);
    expect(await manager.evictIdleSessions(1000)).toEqual([]);
    stateStore.saveHook = undefined;
    expect(await manager.evictIdleSessions(1000)).toEqual(["s1"]);
  });

  it("lists the working set most recently accessed first", async () => {
    const { manager, clock } = setup();
    await manager.addMessage("a", { role: "user", content: "Please do a" });
    clock.advance(10);
    await manager.addMessage("b", { role: "user", content: "b" });
    expect(manager.listWorkingSet().map((row) => [row.sessionId, row.activeTask])).toEqual([
      ["b", ""],
      ["a", "Please do a"],
    ]);
    expect(manager.removeSession("a")).toBe(true);
    expect(manager.hasSession("a")).toBe(false);
  });
});

describe("SessionBufferManager extraction", () => {
  it("advances the watermark past extracted messages and records what was extracted", async () => {
    const { manager } = setup();
    await manager.addMessage("s1", { role: "user", content: "My name is Ada. What time is it?" });
    await manager.addMessage("s1", { role: "assistant", content: "Noon." });
    const outcome = await manager.extractPending("s1");
    expect(outcome).toMatchObject({ status: "extracted", messageCount: 2 });
    expect(await manager.getExtractionState("s1")).toMatchObject({
      watermark: 2,
      summary: "- [add] My name is Ada.",
      inProgress: false,
    });
    expect(await manager.extractPending("s1")).toEqual({ status: "nothing_to_extract" });
    expect(manager.getPendingSessionIds()).toEqual([]);
  });

  it("rewinds to the first failed message when the extractor throws, keeping newer arrivals after it", async () => {
    const gate = deferred();
    const failing: MemoryExtractor = {
      extract: async () => {
        await gate.promise;
        throw new Error("model down");
      },
    };
    const { manager } = setup({ extractor: failing });
    await manager.addMessage("s1", { role: "user", content: "a" });
    await manager.addMessage("s1", { role: "user", content: "b" });
    const running = manager.extractPending("s1");
    await settle();
    expect(await manager.getExtractionState("s1")).toMatchObject({
      watermark: 2,
      inProgress: true,
      activeCount: 1,
    });
    // A second extraction meanwhile sees only what arrived after the claimed batch.
    await manager.addMessage("s1", { role: "user", content: "c" });
    gate.resolve();
    expect(await running).toMatchObject({ status: "failed", messageCount: 2, error: { code: "INTERNAL" } });
    expect(await manager.getExtractionState("s1")).toMatchObject({ watermark: 0, inProgress: false });
  });

  it("never hands the same message to two overlapping extractions", async () => {
    const seen: string[] = [];
    const slow: MemoryExtractor = {
      extract: async (input) => {
        await settle(5);
        seen.push(...input.messages.map((m) => m.id));
        return { memories: [] };
      },
    };
    const { manager } = setup({ extractor: slow });
    const adds: Promise<unknown>[] = [];
    const extractions: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      adds.push(manager.addMessage("s1", { role: "user", content: `m${i}` }));
      if (i % 4 === 0) extractions.push(manager.extractPending("s1"));
    }
    await Promise.all(adds);
    await Promise.all(extractions);
    await manager.extractPending("s1");
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it("counts begin/end and releases waiters when the last extraction ends", async () => {
    const { manager } = setup();
    await manager.beginExtraction("s1");
    await manager.beginExtraction("s1");
    let released = false;
    const waiting = manager.waitForExtractions("s1").then(() => {
      released = true;
    });
    await manager.endExtraction("s1");
    await settle();
    expect(released).toBe(false);
    await manager.endExtraction("s1");
    await waiting;
    expect(released).toBe(true);
  });

  it("rewinds the watermark by id and never forward", async () => {
    const { manager } = setup();
    const ids: string[] = [];
    for (const content of ["a", "b", "c"])
      ids.push((await manager.addMessage("s1", { role: "user", content })).messageId);
    await manager.extractPending("s1");
    expect(await manager.rewindWatermarkToIds("s1", [ids[2] ?? "", ids[1] ?? ""])).toBe(true);
    expect((await manager.getExtractionState("s1")).watermark).toBe(1);
    expect(await manager.rewindWatermarkToIds("s1", [ids[2] ?? ""])).toBe(false);
  });
});

describe("SessionBufferManager context assembly", () => {
  async function sessionWithHistory() {
    const { manager, clock } = setup();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await manager.addMessage("s1", { role: "user", content: `Question ${i}?` });
      await manager.commit("s1", { wait: true });
    }
    for (let i = 0; i < 4; i++) await manager.addMessage("s1", { role: "user", content: "x".repeat(40) });
    return manager;
  }

  it("returns everything when the budget allows: overview, every abstract and every active message", async () => {
    const manager = await sessionWithHistory();
    const context = await manager.getContext("s1", 100_000);
    expect(context).toMatchObject({
      archiveCount: 3,
      activeMessageCount: 4,
      pendingTokens: 40,
      omittedMessageCount: 0,
      omittedArchiveCount: 0,
      overviewTruncated: false,
    });
    expect(context.messages).toHaveLength(4);
    expect(context.archives.map((a) => a.abstract)[0]).toBe("Question 0? | Question 1? | Question 2?");
    expect(context.latestArchiveOverview).toContain("Question 2?");
  });

  it("fills a short budget with the newest messages first, then cuts the overview and skips abstracts", async () => {
    const manager = await sessionWithHistory();
    const tight = await manager.getContext("s1", 25);
    expect(tight.messages).toHaveLength(2);
    expect(tight.omittedMessageCount).toBe(2);
    expect(tight.estimatedTokens).toBeLessThanOrEqual(25);
    expect(tight.latestArchiveOverview.length).toBeLessThanOrEqual(20);
    expect(tight.overviewTruncated).toBe(true);
    expect(tight.archives).toEqual([]);
    const none = await manager.getContext("s1", 0);
    expect(none).toMatchObject({ messages: [], latestArchiveOverview: "", archives: [], estimatedTokens: 0 });
    await expect(manager.getContext("s1", -1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("still returns the active messages when the archive store cannot be read", async () => {
    const { manager, archiveStore } = setup();
    await manager.addMessage("s1", { role: "user", content: "hello" });
    archiveStore.hook = (op) => {
      if (op === "list") throw new Error("db down");
    };
    const context = await manager.getContext("s1", 1000);
    expect(context).toMatchObject({ archiveCount: 0, activeMessageCount: 1 });
  });
});
