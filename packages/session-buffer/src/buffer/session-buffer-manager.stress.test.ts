import { StoreError } from "@engram/core";
import { describe, expect, it } from "vitest";
import { SessionBufferManager } from "./session-buffer-manager.js";
import { manualClock, ScriptedArchiveStore, settle } from "./test-support/harness.js";

/** Small deterministic PRNG (mulberry32), so a failing round can be replayed by its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("SessionBufferManager under random interleavings", () => {
  it("never loses or duplicates a message across adds, commits, failures and extractions", async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = prng(seed);
      const clock = manualClock();
      const store = new ScriptedArchiveStore(clock);
      // Writes stall for a random number of ticks and one in three fails.
      store.hook = async (op) => {
        await settle(Math.floor(random() * 6));
        if (op === "write" && random() < 0.33) throw new StoreError("archive.write", new Error("flaky"));
      };
      const manager = new SessionBufferManager({
        clock,
        archiveStore: store,
        archiveStoreRequired: true,
        archiveMergeThreshold: 1000,
      });
      const added: string[] = [];
      const work: Promise<unknown>[] = [];
      for (let step = 0; step < 60; step++) {
        const roll = random();
        const delay = Math.floor(random() * 8);
        work.push(
          (async () => {
            await settle(delay);
            if (roll < 0.6) {
              added.push((await manager.addMessage("s1", { role: "user", content: `m${step}` })).messageId);
            } else if (roll < 0.85) {
              await manager.commit("s1", { wait: random() < 0.5 });
            } else {
              await manager.extractPending("s1");
            }
          })(),
        );
      }
      await Promise.all(work);
      await manager.drain();
      const archived: string[] = [];
      for (const summary of await store.inner.listArchives("s1")) {
        const archive = await store.inner.readArchive("s1", summary.archiveId);
        archived.push(...(archive?.messages.map((m) => m.id) ?? []));
      }
      const buffered = (await manager.getMessages("s1")).map((m) => m.id);
      const everywhere = [...archived, ...buffered];
      expect(new Set(everywhere).size, `seed ${seed}`).toBe(everywhere.length);
      expect([...everywhere].sort(), `seed ${seed}`).toEqual([...added].sort());
      // Rollbacks put restored messages before newer arrivals, so the buffer keeps arrival order.
      const inBuffer = new Set(buffered);
      expect(buffered, `seed ${seed}`).toEqual(added.filter((id) => inBuffer.has(id)));
      const info = await manager.getSession("s1");
      expect(info.commitInProgress).toBe(false);
      const extraction = await manager.getExtractionState("s1");
      expect(extraction.watermark).toBeLessThanOrEqual(buffered.length);
      expect(extraction.inProgress).toBe(false);
    }
  });
});
