import { StoreError } from "@engram/core";
import { describe, expect, it } from "vitest";
import { SessionBufferManager } from "./session-buffer-manager.js";
import { manualClock, ScriptedArchiveStore } from "./test-support/harness.js";

async function commitBatches(
  manager: SessionBufferManager,
  clock: { advance(ms: number): void },
  count: number,
  first = 0,
) {
  for (let i = first; i < first + count; i++) {
    clock.advance(1000);
    await manager.addMessage("s1", { role: "user", content: `Topic ${i}.` });
    await manager.addMessage("s1", { role: "assistant", content: `Answer ${i}.` });
    const result = await manager.commit("s1", { wait: true });
    if (!result.accepted || result.task.status !== "completed") throw new Error("commit failed");
  }
}

function setup(threshold: number, maxCount: number) {
  const clock = manualClock();
  const store = new ScriptedArchiveStore(clock);
  const manager = new SessionBufferManager({
    clock,
    archiveStore: store,
    archiveMergeThreshold: threshold,
    archiveMaxCount: maxCount,
  });
  return { clock, store, manager };
}

describe("SessionBufferManager archive merge", () => {
  it("merges the oldest archives once the live count reaches the threshold, after a commit", async () => {
    const { clock, store, manager } = setup(4, 3);
    await commitBatches(manager, clock, 3);
    await manager.drain();
    expect(await store.inner.listArchives("s1")).toHaveLength(3);
    await commitBatches(manager, clock, 1, 3);
    await manager.drain();
    const live = await store.inner.listArchives("s1");
    // 4 live >= threshold 4: merge max(2, 4 - 3 + 1) = 2 oldest into one, leaving 3 live.
    expect(live).toHaveLength(3);
    const merged = live.find((a) => a.archiveId.startsWith("merged_"));
    expect(merged).toBeDefined();
    // The merged archive sorts where its content belongs: behind the live newer archives.
    expect(live.at(-1)?.archiveId).toBe(merged?.archiveId);
    const full = await store.inner.readArchive("s1", merged?.archiveId ?? "");
    expect(full?.messages.map((m) => m.content)).toEqual(["Topic 0.", "Answer 0.", "Topic 1.", "Answer 1."]);
    expect(full?.metadata.mergedFrom).toHaveLength(2);
    const all = await store.inner.listArchives("s1", { includeMerged: true });
    expect(all.filter((a) => a.mergedInto === merged?.archiveId)).toHaveLength(2);
    // The latest overview still comes from the newest commit.
    expect((await manager.getContext("s1", 10_000)).latestArchiveOverview).toContain("Answer 3.");
  });

  it("does nothing below the threshold or without a store", async () => {
    const { clock, manager } = setup(5, 3);
    await commitBatches(manager, clock, 2);
    expect(await manager.mergeArchives("s1")).toEqual({ merged: false, reason: "below_threshold" });
    const bare = new SessionBufferManager({ clock });
    expect(await bare.mergeArchives("s1")).toEqual({ merged: false, reason: "no_store" });
  });

  it("undoes every mark and deletes the merged archive when the k-th mark fails, for every k", async () => {
    for (const failure of ["throws", "returns false"] as const) {
      for (let k = 1; k <= 4; k++) {
        const { clock, store, manager } = setup(100, 2);
        await commitBatches(manager, clock, 5);
        const before = await store.inner.listArchives("s1", { includeMerged: true });
        const oldestFirst = [...before].reverse();
        store.hook = async (op, n) => {
          if (op !== "mark" || n !== k) return;
          if (failure === "throws") throw new StoreError("archive.mark", new Error("lost connection"));
          // Another merger took the k-th source meanwhile, so our compare-and-set mark returns false.
          await store.inner.markArchiveMerged("s1", oldestFirst[k - 1]?.archiveId ?? "", "someone_else");
        };
        // 5 live, max 2: merge the 4 oldest; the k-th mark fails.
        const merger = new SessionBufferManager({
          clock,
          archiveStore: store,
          archiveMergeThreshold: 2,
          archiveMaxCount: 2,
        });
        const result = await merger.mergeArchives("s1");
        expect(result).toMatchObject({ merged: false, reason: "mark_failed" });
        expect(store.counts.unmark, `${failure} k=${k}`).toBe(k - 1);
        const after = await store.inner.listArchives("s1", { includeMerged: true });
        if (failure === "throws") {
          expect(after).toEqual(before);
        } else {
          // Only the foreign merge survives; ours is fully undone.
          expect(after.filter((a) => a.mergedInto !== null).map((a) => a.mergedInto)).toEqual([
            "someone_else",
          ]);
          expect(after.filter((a) => a.archiveId.startsWith("merged_"))).toEqual([]);
        }
      }
    }
  });

  it("reports a failed merged-archive write and leaves the sources live", async () => {
    const { clock, store, manager } = setup(100, 2);
    await commitBatches(manager, clock, 3);
    store.hook = (op) => {
      if (op === "write") throw new StoreError("archive.write", new Error("x"));
    };
    const merger = new SessionBufferManager({
      clock,
      archiveStore: store,
      archiveMergeThreshold: 2,
      archiveMaxCount: 2,
    });
    expect(await merger.mergeArchives("s1")).toEqual({ merged: false, reason: "write_failed" });
    expect(await store.inner.listArchives("s1")).toHaveLength(3);
  });

  it("never runs two merges of one session at once", async () => {
    const { clock, store, manager } = setup(100, 2);
    await commitBatches(manager, clock, 4);
    const merger = new SessionBufferManager({
      clock,
      archiveStore: store,
      archiveMergeThreshold: 2,
      archiveMaxCount: 2,
    });
    const results = await Promise.all([
      merger.mergeArchives("s1"),
      merger.mergeArchives("s1"),
      merger.mergeArchives("s1"),
    ]);
    expect(results.filter((r) => r.merged)).toHaveLength(2);
    const live = await store.inner.listArchives("s1");
    expect(live.length).toBeLessThanOrEqual(2);
    const all = await store.inner.listArchives("s1", { includeMerged: true });
    // Every archive is live or merged into an archive that exists.
    const ids = new Set(all.map((a) => a.archiveId));
    for (const archive of all) if (archive.mergedInto) expect(ids.has(archive.mergedInto)).toBe(true);
  });
});
