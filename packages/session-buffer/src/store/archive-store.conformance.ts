import type { Clock } from "@engram/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SessionBufferManager, type SessionStateStore } from "../buffer/index.js";
import type { ArchivedMessage, ArchiveStore, NewSessionArchive } from "../ports/index.js";

interface ManualClock extends Clock {
  advance(ms: number): void;
}

function manualClock(start = Date.UTC(2026, 4, 15, 10)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

/**
 * One implementation under test. `createStore` is called before every test (after `reset`) and again
 * for each extra "process" a race needs: stores created within one test must share state.
 */
export interface ArchiveStoreTestInitializer {
  readonly name: string;
  readonly beforeAll?: () => Promise<void>;
  readonly afterAll?: () => Promise<void>;
  readonly beforeAllTimeout?: number;
  readonly reset?: () => Promise<void>;
  readonly createStore: (props: { clock: Clock }) => ArchiveStore | Promise<ArchiveStore>;
  /** A session state store on the same backend, for the end-to-end manager test (skipped without). */
  readonly createStateStore?: () => SessionStateStore | Promise<SessionStateStore>;
  /** Racers per race test (default 20). */
  readonly concurrency?: number;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? `uncoded: ${String(error)}`;
  }
}

async function race<T>(count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  let open!: () => void;
  const barrier = new Promise<void>((resolve) => {
    open = resolve;
  });
  const running = Array.from({ length: count }, async (_, i) => {
    await barrier;
    return task(i);
  });
  open();
  return Promise.all(running);
}

const message = (id: string, content: string, createdAt = 1): ArchivedMessage => ({
  id,
  role: "user",
  content,
  createdAt,
});

const archive = (archiveId: string, extra: Partial<NewSessionArchive> = {}): NewSessionArchive => ({
  sessionId: "s1",
  archiveId,
  overview: `overview of ${archiveId}`,
  abstract: `abstract of ${archiveId}`,
  messages: [message(`${archiveId}-m1`, "hello"), message(`${archiveId}-m2`, "world ✓")],
  ...extra,
});

/** The behaviour every `ArchiveStore` must have; registers one `describe` named after the initializer. */
export function archiveStoreConformance(init: ArchiveStoreTestInitializer): void {
  const racers = init.concurrency ?? 20;

  describe(init.name, () => {
    let clock: ManualClock;
    let store: ArchiveStore;

    if (init.beforeAll) beforeAll(init.beforeAll, init.beforeAllTimeout);
    if (init.afterAll) afterAll(init.afterAll);
    beforeEach(async () => {
      await init.reset?.();
      clock = manualClock();
      store = await init.createStore({ clock });
    });

    it("writes an archive and reads it back with its messages and metadata", async () => {
      const summary = await store.writeArchive(
        archive("a1", { metadata: { quality: { score: 0.9 }, tags: ["x"] } }),
      );
      expect(summary).toEqual({
        sessionId: "s1",
        archiveId: "a1",
        overview: "overview of a1",
        abstract: "abstract of a1",
        messageCount: 2,
        metadata: { quality: { score: 0.9 }, tags: ["x"] },
        createdAt: clock.now(),
        mergedInto: null,
      });
      const read = await store.readArchive("s1", "a1");
      expect(read).toEqual({ ...summary, messages: archive("a1").messages });
      expect(await store.readArchive("s1", "nope")).toBeUndefined();
      expect(await store.readArchive("s2", "a1")).toBeUndefined();
    });

    it("keeps an explicit createdAt and lists newest first, ties broken by archive id descending", async () => {
      await store.writeArchive(archive("b", { createdAt: 2000 }));
      await store.writeArchive(archive("a", { createdAt: 2000 }));
      await store.writeArchive(archive("c", { createdAt: 1000 }));
      await store.writeArchive(archive("merged_x", { createdAt: 2000 }));
      await store.writeArchive(archive("Z_upper", { createdAt: 2000 }));
      const ids = (await store.listArchives("s1")).map((a) => a.archiveId);
      expect(ids).toEqual(["merged_x", "b", "a", "Z_upper", "c"]);
      expect((await store.listArchives("s1"))[0]).not.toHaveProperty("messages");
    });

    it("refuses a second write of the same id with CONFLICT and keeps the first", async () => {
      await store.writeArchive(archive("a1"));
      expect(await codeOf(store.writeArchive(archive("a1", { overview: "other" })))).toBe("CONFLICT");
      expect((await store.readArchive("s1", "a1"))?.overview).toBe("overview of a1");
      // The same id in another session is a different archive.
      await store.writeArchive(archive("a1", { sessionId: "s2" }));
      expect(await store.listArchives("s1")).toHaveLength(1);
      expect(await store.listArchives("s2")).toHaveLength(1);
    });

    it("lets exactly one of many racing writers of one id win", async () => {
      const results = await race(racers, (i) =>
        codeOf(store.writeArchive(archive("dup", { overview: `w${i}` }))),
      );
      expect(results.filter((code) => code === undefined)).toHaveLength(1);
      expect(results.filter((code) => code === "CONFLICT")).toHaveLength(racers - 1);
    });

    it("rejects unsafe ids and malformed archives before writing", async () => {
      expect(await codeOf(store.writeArchive(archive("../x")))).toBe("INVALID_ID");
      expect(await codeOf(store.writeArchive(archive("a", { sessionId: "a/b" })))).toBe("INVALID_ID");
      expect(
        await codeOf(
          store.writeArchive(archive("a", { messages: [{ id: "m" } as unknown as ArchivedMessage] })),
        ),
      ).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.listArchives(".."))).toBe("INVALID_ID");
      expect(await codeOf(store.readArchive("s1", "a\\b"))).toBe("INVALID_ID");
      expect(await codeOf(store.markArchiveMerged("s1", "a", "../m"))).toBe("INVALID_ID");
      expect(await store.listArchives("s1", { includeMerged: true })).toEqual([]);
    });

    it("marks compare-and-set: live or same target succeeds, another target or a missing archive fails", async () => {
      await store.writeArchive(archive("a1"));
      await store.writeArchive(archive("m1"));
      expect(await store.markArchiveMerged("s1", "a1", "m1")).toBe(true);
      expect(await store.markArchiveMerged("s1", "a1", "m1")).toBe(true);
      expect(await store.markArchiveMerged("s1", "a1", "m2")).toBe(false);
      expect(await store.markArchiveMerged("s1", "missing", "m1")).toBe(false);
      expect((await store.listArchives("s1")).map((a) => a.archiveId)).toEqual(["m1"]);
      const all = await store.listArchives("s1", { includeMerged: true });
      expect(all.find((a) => a.archiveId === "a1")?.mergedInto).toBe("m1");
      expect((await store.readArchive("s1", "a1"))?.mergedInto).toBe("m1");
    });

    it("unmarks only a mark into the given target", async () => {
      await store.writeArchive(archive("a1"));
      await store.markArchiveMerged("s1", "a1", "m1");
      expect(await store.unmarkArchiveMerged("s1", "a1", "m2")).toBe(false);
      expect((await store.readArchive("s1", "a1"))?.mergedInto).toBe("m1");
      expect(await store.unmarkArchiveMerged("s1", "a1", "m1")).toBe(true);
      expect((await store.readArchive("s1", "a1"))?.mergedInto).toBeNull();
      expect(await store.unmarkArchiveMerged("s1", "missing", "m1")).toBe(false);
    });

    it("lets exactly one of many mergers racing for one archive mark it", async () => {
      await store.writeArchive(archive("a1"));
      const stores = await Promise.all(Array.from({ length: 3 }, () => init.createStore({ clock })));
      const results = await race(racers, (i) =>
        (stores[i % stores.length] ?? store).markArchiveMerged("s1", "a1", `m${i}`),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.readArchive("s1", "a1"))?.mergedInto).toBe(`m${winner}`);
    });

    it("deletes an archive once", async () => {
      await store.writeArchive(archive("a1"));
      expect(await store.deleteArchive("s1", "a1")).toBe(true);
      expect(await store.deleteArchive("s1", "a1")).toBe(false);
      expect(await store.readArchive("s1", "a1")).toBeUndefined();
    });

    it("backs a SessionBufferManager through commits, an automatic merge and a restart", async () => {
      const stateStore = init.createStateStore ? await init.createStateStore() : undefined;
      const make = () =>
        new SessionBufferManager({
          clock,
          archiveStore: store,
          archiveStoreRequired: true,
          ...(stateStore ? { sessionStateStore: stateStore } : {}),
          archiveMergeThreshold: 3,
          archiveMaxCount: 2,
        });
      const manager = make();
      for (let i = 0; i < 3; i++) {
        clock.advance(1000);
        await manager.addMessage("s1", { role: "user", content: `Please handle step ${i}.` });
        await manager.addMessage("s1", { role: "assistant", content: `Step ${i} done.` });
        const result = await manager.commit("s1", { wait: true });
        expect(result.accepted && result.task.status).toBe("completed");
        await manager.drain();
      }
      const live = await store.listArchives("s1");
      // 3 live >= threshold 3: the 2 oldest were merged, leaving the merged one and the newest.
      expect(live).toHaveLength(2);
      expect(live[1]?.archiveId).toMatch(/^merged_/);
      const merged = await store.readArchive("s1", live[1]?.archiveId ?? "");
      expect(merged?.messages.map((m) => m.content)).toEqual([
        "Please handle step 0.",
        "Step 0 done.",
        "Please handle step 1.",
        "Step 1 done.",
      ]);
      const context = await manager.getContext("s1", 10_000);
      expect(context.latestArchiveOverview).toContain("Step 2 done.");
      if (stateStore) {
        const restarted = make();
        expect(await restarted.getSession("s1")).toMatchObject({ commitCount: 3 });
        // The first detected task became the objective; later heuristics never overwrite it.
        expect((await restarted.getSessionState("s1")).task.objective).toBe("Please handle step 0.");
      }
    });
  });
}

export interface SessionStateStoreTestInitializer {
  readonly name: string;
  readonly beforeAll?: () => Promise<void>;
  readonly afterAll?: () => Promise<void>;
  readonly reset?: () => Promise<void>;
  readonly createStore: () => SessionStateStore | Promise<SessionStateStore>;
}

/** The behaviour every `SessionStateStore` must have. */
export function sessionStateStoreConformance(init: SessionStateStoreTestInitializer): void {
  describe(init.name, () => {
    let store: SessionStateStore;
    if (init.beforeAll) beforeAll(init.beforeAll);
    if (init.afterAll) afterAll(init.afterAll);
    beforeEach(async () => {
      await init.reset?.();
      store = await init.createStore();
    });

    it("saves, replaces, loads and deletes a snapshot per session", async () => {
      expect(await store.load("s1")).toBeUndefined();
      await store.save({
        sessionId: "s1",
        payload: { version: 1, task: { objective: "ünïcode ✓" } },
        savedAt: 1000,
      });
      await store.save({ sessionId: "s2", payload: { version: 1 }, savedAt: 1000 });
      expect(await store.load("s1")).toEqual({
        sessionId: "s1",
        payload: { version: 1, task: { objective: "ünïcode ✓" } },
        savedAt: 1000,
      });
      await store.save({ sessionId: "s1", payload: { version: 1, n: [1, 2] }, savedAt: 2000 });
      expect(await store.load("s1")).toEqual({
        sessionId: "s1",
        payload: { version: 1, n: [1, 2] },
        savedAt: 2000,
      });
      expect(await store.delete("s1")).toBe(true);
      expect(await store.delete("s1")).toBe(false);
      expect(await store.load("s1")).toBeUndefined();
      expect(await store.load("s2")).toBeDefined();
    });

    it("rejects unsafe session ids", async () => {
      expect(await codeOf(store.load("../x"))).toBe("INVALID_ID");
      expect(await codeOf(store.save({ sessionId: "a/b", payload: {}, savedAt: 1 }))).toBe("INVALID_ID");
    });
  });
}
