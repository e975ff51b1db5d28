import { StoreError } from "@engram/core";
import { describe, expect, it } from "vitest";
import type { CommitResult, CommitTask } from "./commit-task.js";
import { SessionBufferManager, type SessionBufferManagerProps } from "./session-buffer-manager.js";
import type { SessionCompressor } from "./session-compressor.js";
import { deferred, manualClock, ScriptedArchiveStore, settle } from "./test-support/harness.js";

function setup(props: Partial<SessionBufferManagerProps> = {}) {
  const clock = manualClock();
  const store = new ScriptedArchiveStore(clock);
  const manager = new SessionBufferManager({ clock, archiveStore: store, ...props });
  return { clock, store, manager };
}

function accepted(result: CommitResult): CommitTask {
  if (!result.accepted) throw new Error(`commit refused: ${result.reason}`);
  return result.task;
}

async function addTurns(manager: SessionBufferManager, sessionId: string, ...contents: string[]) {
  const ids: string[] = [];
  for (const [i, content] of contents.entries()) {
    ids.push(
      (await manager.addMessage(sessionId, { role: i % 2 === 0 ? "user" : "assistant", content })).messageId,
    );
  }
  return ids;
}

const contents = async (manager: SessionBufferManager, sessionId: string) =>
  (await manager.getMessages(sessionId)).map((m) => m.content);

describe("SessionBufferManager messages", () => {
  it("returns the new message id and the pending token estimate", async () => {
    const { manager } = setup();
    const first = await manager.addMessage("s1", { role: "user", content: "x".repeat(40) });
    expect(first).toMatchObject({ pendingTokens: 10, messageCount: 1, turnCount: 1 });
    const second = await manager.addMessage("s1", { role: "assistant", content: "abcd" });
    expect(second.pendingTokens).toBe(11);
    expect(second.messageId).not.toBe(first.messageId);
    expect(await manager.getSession("s1")).toMatchObject({
      messageCount: 2,
      turnCount: 1,
      pendingTokens: 11,
    });
    expect(await manager.shouldCompress("s1", 1, 1000)).toBe(true);
    expect(await manager.shouldCompress("s1", 2, 1000)).toBe(false);
    await manager.markCompressed("s1");
    expect(await manager.shouldCompress("s1", 1, 1)).toBe(false);
  });

  it("rejects unsafe session ids and malformed messages before creating anything", async () => {
    const { manager } = setup();
    await expect(manager.addMessage("../etc", { role: "user", content: "x" })).rejects.toMatchObject({
      code: "INVALID_ID",
    });
    await expect(manager.addMessage("s1", { role: "robot" as "user", content: "x" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(
      manager.addMessage("s1", { role: "user", content: 5 as unknown as string }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(manager.hasSession("s1")).toBe(false);
    await expect(manager.commit("s1", { archiveId: "a/b" })).rejects.toMatchObject({ code: "INVALID_ID" });
  });

  it("binds the identity given when the session is first created", async () => {
    const { manager } = setup();
    await manager.addMessage(
      "s1",
      { role: "user", content: "hi" },
      { identity: { userId: "u1", agentId: "a" } },
    );
    await manager.addMessage("s1", { role: "user", content: "hi" }, { identity: { userId: "u2" } });
    expect((await manager.getSession("s1")).identity).toEqual({ userId: "u1", agentId: "a" });
  });
});

describe("SessionBufferManager commit", () => {
  it("refuses an empty buffer with empty_buffer", async () => {
    const { manager } = setup();
    expect(await manager.commit("s1")).toEqual({ accepted: false, sessionId: "s1", reason: "empty_buffer" });
  });

  it("phase 1 clears the buffer before returning; phase 2 completes the pollable task in the background", async () => {
    const { manager, store } = setup();
    await addTurns(manager, "s1", "Please summarise the report.", "Sure.");
    const gate = deferred();
    store.hook = (op) => (op === "write" ? gate.promise : undefined);
    const task = accepted(await manager.commit("s1"));
    expect(task).toMatchObject({ status: "processing", archived: false, kind: "commit", messageCount: 2 });
    expect(await manager.getMessages("s1")).toEqual([]);
    expect((await manager.getSession("s1")).commitInProgress).toBe(true);
    expect(manager.getTask(task.taskId)?.status).toBe("processing");
    gate.resolve();
    const done = await manager.waitForTask(task.taskId);
    expect(done).toMatchObject({
      status: "completed",
      archived: true,
      archiveUri: `archive://s1/${task.archiveId}`,
    });
    expect(manager.getTask(task.taskId)).toEqual(done);
    // What a caller got back is a snapshot: later progress never changes it.
    expect(task.status).toBe("processing");
    expect(Object.isFrozen(done)).toBe(true);
    expect(manager.getTask("task_unknown")).toBeUndefined();
    expect(await manager.getSession("s1")).toMatchObject({ commitInProgress: false, commitCount: 1 });
    const archive = await store.inner.readArchive("s1", task.archiveId);
    expect(archive?.messages.map((m) => m.content)).toEqual(["Please summarise the report.", "Sure."]);
  });

  it("answers commit_in_progress to a second commit while phase 2 runs, and accepts one after it", async () => {
    const { manager, store } = setup();
    await addTurns(manager, "s1", "one");
    const gate = deferred();
    store.hook = (op) => (op === "write" ? gate.promise : undefined);
    const first = accepted(await manager.commit("s1"));
    await addTurns(manager, "s1", "two");
    expect(await manager.commit("s1")).toMatchObject({ accepted: false, reason: "commit_in_progress" });
    gate.resolve();
    await manager.waitForTask(first.taskId);
    store.hook = undefined;
    const second = await manager.commit("s1", { wait: true });
    expect(accepted(second).status).toBe("completed");
  });

  it("lets exactly one of many commits racing on one session through", async () => {
    for (let round = 0; round < 20; round++) {
      const { manager } = setup();
      await addTurns(manager, "s1", "hello", "world");
      const results = await Promise.all(Array.from({ length: 8 }, () => manager.commit("s1")));
      const winners = results.filter((r) => r.accepted);
      expect(winners).toHaveLength(1);
      for (const r of results)
        if (!r.accepted) expect(r.reason).toMatch(/^(commit_in_progress|empty_buffer)$/);
      await manager.drain();
    }
  });

  it("with wait returns the settled task and fuses the overview and abstract with the previous archive", async () => {
    const { manager, clock } = setup();
    await addTurns(manager, "s1", "Plan the Berlin trip.", "Booked the train.");
    const first = accepted(await manager.commit("s1", { wait: true }));
    expect(first.status).toBe("completed");
    clock.advance(1000);
    await addTurns(manager, "s1", "Now find a hotel.", "Found one near the station.");
    accepted(await manager.commit("s1", { wait: true }));
    const context = await manager.getContext("s1", 10_000);
    expect(context.archiveCount).toBe(2);
    expect(context.latestArchiveOverview).toContain("Booked the train.");
    expect(context.latestArchiveOverview).toContain("Found one near the station.");
    expect(context.archives[0]?.abstract).toBe("Plan the Berlin trip. | Now find a hotel.");
  });

  it("uses a given archive id and refuses a duplicate without degrading, rolling the buffer back", async () => {
    const { manager } = setup();
    await addTurns(manager, "s1", "a");
    accepted(await manager.commit("s1", { wait: true, archiveId: "fixed" }));
    await addTurns(manager, "s1", "b");
    const failed = accepted(await manager.commit("s1", { wait: true, archiveId: "fixed" }));
    expect(failed).toMatchObject({ status: "failed", archived: false, error: { code: "CONFLICT" } });
    expect(await contents(manager, "s1")).toEqual(["b"]);
  });

  it("falls back to the deterministic compressor when the configured one throws", async () => {
    const broken: SessionCompressor = {
      compress: async () => {
        throw new Error("model down");
      },
    };
    const { manager } = setup({ compressor: broken });
    await addTurns(manager, "s1", "Could you check the logs?");
    const task = accepted(await manager.commit("s1", { wait: true }));
    expect(task.status).toBe("completed");
    expect((await manager.getContext("s1", 1000)).archives[0]?.abstract).toBe("Could you check the logs?");
  });
});

describe("SessionBufferManager commit failure and rollback", () => {
  it("fails the task with the store's code and restores the buffer when a required store fails", async () => {
    const { manager, store } = setup({ archiveStoreRequired: true });
    await addTurns(manager, "s1", "a", "b");
    store.hook = (op) => {
      if (op === "write") throw new StoreError("archive.write", new Error("disk full"));
    };
    const task = accepted(await manager.commit("s1", { wait: true }));
    expect(task).toMatchObject({ status: "failed", archived: false, error: { code: "STORE_FAILED" } });
    expect(await contents(manager, "s1")).toEqual(["a", "b"]);
    expect(await manager.getSession("s1")).toMatchObject({ commitInProgress: false, turnCount: 1 });
  });

  it("fails with ARCHIVE_STORE_UNAVAILABLE when a store is required and none is configured", async () => {
    const manager = new SessionBufferManager({ clock: manualClock(), archiveStoreRequired: true });
    await addTurns(manager, "s1", "a");
    const task = accepted(await manager.commit("s1", { wait: true }));
    expect(task.error?.code).toBe("ARCHIVE_STORE_UNAVAILABLE");
    expect(await contents(manager, "s1")).toEqual(["a"]);
  });

  it("without the required flag keeps the archive in memory when the store fails, and says so", async () => {
    const { manager, store } = setup();
    await addTurns(manager, "s1", "Please keep this.");
    store.hook = (op) => {
      if (op === "write") throw new Error("connection reset");
    };
    const task = accepted(await manager.commit("s1", { wait: true }));
    expect(task).toMatchObject({ status: "completed", archived: true, degraded: true });
    expect(task.archiveUri).toBe(`memory://s1/${task.archiveId}`);
    store.hook = undefined;
    expect((await manager.getContext("s1", 1000)).latestArchiveOverview).toContain("Please keep this.");
  });

  it("without any store archives to process memory", async () => {
    const manager = new SessionBufferManager({ clock: manualClock() });
    await addTurns(manager, "s1", "remember me");
    const task = accepted(await manager.commit("s1", { wait: true }));
    expect(task).toMatchObject({
      status: "completed",
      degraded: false,
      archiveUri: `memory://s1/${task.archiveId}`,
    });
  });

  it("keeps messages added during a failing phase 2 after the restored ones, over many interleavings", async () => {
    for (let round = 0; round < 40; round++) {
      const { manager, store } = setup({ archiveStoreRequired: true });
      const original = await addTurns(manager, "s1", "o1", "o2", "o3");
      await manager.issueCompactionToken("s1");
      const listGate = deferred();
      const writeGate = deferred();
      store.hook = async (op) => {
        if (op === "list") await listGate.promise;
        if (op === "write") {
          await writeGate.promise;
          throw new StoreError("archive.write", new Error("boom"));
        }
      };
      const task = accepted(await manager.commit("s1"));
      // Writers start at different ticks relative to the two gates opening.
      const arrived: string[] = [];
      const writers = Array.from({ length: 1 + (round % 5) }, async (_, i) => {
        await settle((round * 7 + i * 3) % 11);
        const { messageId } = await manager.addMessage("s1", { role: "user", content: `n${i}` });
        arrived.push(messageId);
      });
      await settle(round % 6);
      listGate.resolve();
      await settle((round * 3) % 9);
      writeGate.resolve();
      await Promise.all(writers);
      const final = await manager.waitForTask(task.taskId);
      expect(final?.status).toBe("failed");
      const messages = await manager.getMessages("s1");
      expect(messages.map((m) => m.id)).toEqual([...original, ...arrived]);
      expect(await manager.getSession("s1")).toMatchObject({
        commitInProgress: false,
        turnCount: 2 + arrived.length,
      });
      // The buffer changed since the token was issued, so the restored token is no longer valid.
      expect(await manager.getCompactionToken("s1")).toBeUndefined();
    }
  });

  it("keeps messages added during a successful phase 2 in the buffer and out of the archive", async () => {
    const { manager, store } = setup();
    await addTurns(manager, "s1", "o1", "o2");
    const gate = deferred();
    store.hook = (op) => (op === "write" ? gate.promise : undefined);
    const task = accepted(await manager.commit("s1"));
    await addTurns(manager, "s1", "late");
    gate.resolve();
    await manager.waitForTask(task.taskId);
    expect(await contents(manager, "s1")).toEqual(["late"]);
    const archive = await store.inner.readArchive("s1", task.archiveId);
    expect(archive?.messages.map((m) => m.content)).toEqual(["o1", "o2"]);
  });

  it("restores the compaction token of an unchanged buffer after a failed commit", async () => {
    const { manager, store } = setup({ archiveStoreRequired: true });
    await addTurns(manager, "s1", "a");
    const token = await manager.issueCompactionToken("s1", "arch-1");
    store.hook = (op) => {
      if (op === "write") throw new StoreError("archive.write", new Error("x"));
    };
    accepted(await manager.commit("s1", { wait: true }));
    expect(await manager.getCompactionToken("s1")).toEqual({ token, archiveId: "arch-1" });
  });
});

describe("SessionBufferManager commitSnapshot", () => {
  it("archives a fixed snapshot without touching the live buffer, then removes just those messages", async () => {
    const { manager, store } = setup();
    await addTurns(manager, "s1", "a", "b", "c", "d");
    const live = await manager.getMessages("s1");
    const result = await manager.commitSnapshot("s1", live.slice(0, 2));
    const task = accepted(result);
    expect(task).toMatchObject({ kind: "snapshot", status: "completed", messageCount: 2 });
    expect(await contents(manager, "s1")).toEqual(["a", "b", "c", "d"]);
    await addTurns(manager, "s1", "e");
    expect(
      await manager.removeMessagesById(
        "s1",
        live.slice(0, 2).map((m) => m.id),
      ),
    ).toBe(2);
    expect(await contents(manager, "s1")).toEqual(["c", "d", "e"]);
    const archive = await store.inner.readArchive("s1", task.archiveId);
    expect(archive?.messages.map((m) => m.content)).toEqual(["a", "b"]);
    expect((await manager.getSession("s1")).commitCount).toBe(1);
  });

  it("refuses an empty snapshot and runs while a buffer commit is in progress", async () => {
    const { manager, store } = setup();
    expect(await manager.commitSnapshot("s1", [])).toMatchObject({
      accepted: false,
      reason: "empty_snapshot",
    });
    const bogus = [{ id: "", role: "user", content: "x", createdAt: 1, estimatedTokens: 1 }] as const;
    await expect(manager.commitSnapshot("s1", bogus)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await addTurns(manager, "s1", "a", "b");
    const snapshot = await manager.getMessages("s1");
    const gate = deferred();
    store.hook = (op, n) => (op === "write" && n === 1 ? gate.promise : undefined);
    const commit = accepted(await manager.commit("s1"));
    const snap = accepted(await manager.commitSnapshot("s1", snapshot, { wait: false }));
    expect(snap.status).toBe("processing");
    expect((await manager.waitForTask(snap.taskId))?.status).toBe("completed");
    gate.resolve();
    expect((await manager.waitForTask(commit.taskId))?.status).toBe("completed");
  });

  it("leaves the live buffer alone when a snapshot commit fails", async () => {
    const { manager, store } = setup({ archiveStoreRequired: true });
    await addTurns(manager, "s1", "a", "b");
    store.hook = (op) => {
      if (op === "write") throw new StoreError("archive.write", new Error("x"));
    };
    const task = accepted(await manager.commitSnapshot("s1", (await manager.getMessages("s1")).slice(0, 1)));
    expect(task.status).toBe("failed");
    expect(await contents(manager, "s1")).toEqual(["a", "b"]);
  });
});

describe("SessionBufferManager tasks", () => {
  it("forgets the oldest settled tasks beyond the retention limit", async () => {
    const { manager } = setup({ maxRetainedTasks: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      await addTurns(manager, "s1", `m${i}`);
      ids.push(accepted(await manager.commit("s1", { wait: true })).taskId);
    }
    expect(ids.map((id) => manager.getTask(id) !== undefined)).toEqual([false, false, true, true]);
  });
});
