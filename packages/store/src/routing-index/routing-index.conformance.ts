import type { Clock, EngramError, NewRoutingEntry, RoutingIndex } from "@engram/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

/** A clock the tests move by hand. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  return {
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/**
 * One implementation under test. `createIndex` is called before every test (after `reset`) and again
 * for every extra "router" a race test needs: instances created for one test must share state, as
 * several gateway processes share one database.
 */
export interface RoutingIndexTestInitializer {
  readonly name: string;
  readonly beforeAll?: () => Promise<void>;
  readonly afterAll?: () => Promise<void>;
  readonly beforeAllTimeout?: number;
  readonly reset?: () => Promise<void>;
  readonly createIndex: (props: { clock: Clock }) => RoutingIndex | Promise<RoutingIndex>;
  /**
   * The stored model override of `sessionKey` exactly as persisted (raw row value), to prove that
   * credentials never reach storage. Tests that need it are skipped when absent.
   */
  readonly readStoredOverride?: (sessionKey: string) => Promise<unknown>;
  /** Racers per race test (default 30). */
  readonly concurrency?: number;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as EngramError).code ?? `uncoded: ${String(error)}`;
  }
}

/** Starts every task behind one barrier, so the calls really overlap. */
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

const telegram = {
  platform: "telegram",
  chatId: "42",
  chatType: "dm" as const,
  chatName: "Ann",
  userId: "u1",
};
const key = "agent:main:telegram:dm:42";
const entry = (extra: Partial<NewRoutingEntry> = {}): NewRoutingEntry => ({
  sessionKey: key,
  sessionId: "s1",
  origin: telegram,
  ...extra,
});

/** The behaviour every `RoutingIndex` must have; registers one `describe` named after the initializer. */
export function routingIndexConformance(init: RoutingIndexTestInitializer): void {
  const racers = init.concurrency ?? 30;

  describe(init.name, () => {
    let clock: ManualClock;
    let index: RoutingIndex;
    const routers = (n: number) =>
      Promise.all(Array.from({ length: n }, () => Promise.resolve(init.createIndex({ clock }))));

    if (init.beforeAll) beforeAll(init.beforeAll, init.beforeAllTimeout);
    if (init.afterAll) afterAll(init.afterAll);
    beforeEach(async () => {
      await init.reset?.();
      clock = manualClock();
      index = await init.createIndex({ clock });
    });

    describe("entries", () => {
      it("stores an entry with defaults derived from its origin and reads it back", async () => {
        const stored = await index.put(entry());
        expect(stored).toMatchObject({
          sessionKey: key,
          sessionId: "s1",
          platform: "telegram",
          chatType: "dm",
          displayName: "Ann",
          lastPromptTokens: 0,
          suspended: false,
          resumePending: false,
          modelOverride: null,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        expect(stored.origin).toMatchObject(telegram);
        expect(await index.get(key)).toEqual(stored);
        expect(await index.get("agent:main:telegram:dm:nobody")).toBeUndefined();
      });

      it("put replaces the whole entry, resetting flags not given", async () => {
        await index.put(entry({ suspended: true, lastPromptTokens: 50 }));
        clock.advance(1000);
        const replaced = await index.put(entry({ sessionId: "s2" }));
        expect(replaced).toMatchObject({ sessionId: "s2", suspended: false, lastPromptTokens: 0 });
      });

      it("putIfAbsent lets exactly one of many racing creators win", async () => {
        const many = await routers(4);
        const results = await race(racers, (i) =>
          many[i % many.length]!.putIfAbsent(entry({ sessionId: `s${i}` })),
        );
        const winners = results.filter((result) => result.created);
        expect(winners).toHaveLength(1);
        const stored = await index.get(key);
        expect(stored?.sessionId).toBe(winners[0]?.entry.sessionId);
        for (const result of results) expect(result.entry.sessionId).toBe(stored?.sessionId);
      });

      it("finds the entry routing to a session id", async () => {
        await index.put(entry());
        await index.put(entry({ sessionKey: "agent:main:discord:dm:7", sessionId: "s7" }));
        expect((await index.findBySessionId("s7"))?.sessionKey).toBe("agent:main:discord:dm:7");
        expect(await index.findBySessionId("nope")).toBeUndefined();
      });

      it("deletes, optionally only while the key still routes to the expected session", async () => {
        await index.put(entry());
        expect(await index.delete(key, { expectedSessionId: "other" })).toBe(false);
        expect(await index.get(key)).toBeDefined();
        expect(await index.delete(key)).toBe(true);
        expect(await index.delete(key)).toBe(false);
        expect(await index.get(key)).toBeUndefined();
      });

      it("rejects unsafe keys and ids with INVALID_ID and writes nothing", async () => {
        expect(await codeOf(index.put(entry({ sessionKey: "../../etc/passwd" })))).toBe("INVALID_ID");
        expect(await codeOf(index.put(entry({ sessionId: "a/b" })))).toBe("INVALID_ID");
        expect(await codeOf(index.get("a\\b"))).toBe("INVALID_ID");
        expect(await codeOf(index.patch(key, { lastPromptTokens: -5 }))).toBe("INVALID_ARGUMENT");
        expect(await index.count()).toBe(0);
      });
    });

    describe("listing", () => {
      beforeEach(async () => {
        await index.put(entry({ sessionKey: "key:telegram:1", sessionId: "a" }));
        clock.advance(1000);
        await index.put(
          entry({
            sessionKey: "key:discord:1",
            sessionId: "b",
            origin: { ...telegram, platform: "discord" },
          }),
        );
        clock.advance(1000);
        await index.put(entry({ sessionKey: "key:telegram:2", sessionId: "c" }));
      });

      it("lists most recently active first, with paging", async () => {
        expect((await index.list()).map((e) => e.sessionKey)).toEqual([
          "key:telegram:2",
          "key:discord:1",
          "key:telegram:1",
        ]);
        expect((await index.list({ limit: 1, offset: 1 })).map((e) => e.sessionKey)).toEqual([
          "key:discord:1",
        ]);
      });

      it("filters by platform and by last activity, and counts with the same filters", async () => {
        const start = Date.UTC(2026, 0, 1);
        expect((await index.list({ platform: "telegram" })).map((e) => e.sessionId)).toEqual(["c", "a"]);
        expect((await index.list({ updatedBefore: start + 1000 })).map((e) => e.sessionId)).toEqual(["a"]);
        expect((await index.list({ updatedSince: start + 1000 })).map((e) => e.sessionId)).toEqual([
          "c",
          "b",
        ]);
        expect(await index.count()).toBe(3);
        expect(await index.count({ platform: "discord" })).toBe(1);
        expect(await index.count({ platform: "telegram", updatedBefore: start + 1 })).toBe(1);
      });
    });

    describe("patches", () => {
      it("writes only the fields given and bumps updatedAt unless told not to", async () => {
        await index.put(entry({ displayName: "Ann" }));
        clock.advance(500);
        const patched = await index.patch(key, { lastPromptTokens: 1234 });
        expect(patched).toMatchObject({ lastPromptTokens: 1234, displayName: "Ann", updatedAt: clock.now() });
        clock.advance(500);
        const quiet = await index.patch(key, { expiryFinalized: true, touch: false });
        expect(quiet).toMatchObject({ expiryFinalized: true, updatedAt: clock.now() - 500 });
        expect(await index.patch("key:unknown", { suspended: true })).toBeUndefined();
      });

      it("applies a patch with expectedSessionId only while the key still routes there", async () => {
        await index.put(entry());
        expect(await index.patch(key, { lastPromptTokens: 9 }, { expectedSessionId: "old" })).toBeUndefined();
        expect((await index.get(key))?.lastPromptTokens).toBe(0);
        expect(
          (await index.patch(key, { lastPromptTokens: 9 }, { expectedSessionId: "s1" }))?.lastPromptTokens,
        ).toBe(9);
      });

      it("never loses an update when routers patch different flags concurrently", async () => {
        await index.put(entry());
        const many = await routers(4);
        const patches = [
          { lastPromptTokens: 777 },
          { displayName: "Renamed" },
          { expiryFinalized: true },
          { isFreshReset: true },
          { wasAutoReset: true, autoResetReason: "idle" },
          { modelOverride: { model: "gpt-x", provider: "openai" } },
        ] as const;
        for (let round = 0; round < 5; round++) {
          await index.put(entry());
          await race(patches.length * 4, (i) =>
            many[i % many.length]!.patch(key, patches[i % patches.length]!),
          );
          expect(await index.get(key)).toMatchObject({
            sessionId: "s1",
            lastPromptTokens: 777,
            displayName: "Renamed",
            expiryFinalized: true,
            isFreshReset: true,
            wasAutoReset: true,
            autoResetReason: "idle",
            modelOverride: { model: "gpt-x", provider: "openai" },
          });
        }
      });
    });

    describe("switching sessions", () => {
      it("switches when the expected id matches, keeping identity and resetting flags", async () => {
        await index.put(entry({ suspended: true, resumePending: true, modelOverride: { model: "m" } }));
        clock.advance(10_000);
        const result = await index.switchSession(key, "s1", "s2", { isFreshReset: true });
        expect(result.switched).toBe(true);
        expect(result.switched && result.entry).toMatchObject({
          sessionId: "s2",
          platform: "telegram",
          displayName: "Ann",
          suspended: false,
          resumePending: false,
          modelOverride: null,
          isFreshReset: true,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
      });

      it("refuses a stale expected id and reports the current entry", async () => {
        await index.put(entry({ sessionId: "s2" }));
        const result = await index.switchSession(key, "s1", "s3");
        expect(result).toMatchObject({ switched: false, current: { sessionId: "s2" } });
        expect(await index.switchSession("key:none", "s1", "s3")).toEqual({
          switched: false,
          current: undefined,
        });
      });

      it("lets exactly one of N racing routers switch away from a session", async () => {
        const many = await routers(4);
        for (let round = 0; round < 3; round++) {
          await index.put(entry({ sessionId: `base${round}` }));
          const results = await race(racers, (i) =>
            many[i % many.length]!.switchSession(key, `base${round}`, `new${round}-${i}`, {
              wasAutoReset: true,
            }),
          );
          const winners = results.filter((result) => result.switched);
          expect(winners).toHaveLength(1);
          const stored = await index.get(key);
          expect(winners[0]?.switched && winners[0].entry.sessionId).toBe(stored?.sessionId);
          for (const result of results) {
            if (!result.switched) expect(result.current?.sessionId).toBe(stored?.sessionId);
          }
        }
      });
    });

    describe("model override", () => {
      it("strips credentials before storing, whatever the caller passes", async () => {
        const secret = "sk-live-do-not-store";
        await index.put(
          entry({
            modelOverride: {
              model: "m1",
              provider: "p",
              base_url: "https://api",
              api_key: secret,
              apiKey: secret,
            },
          }),
        );
        expect((await index.get(key))?.modelOverride).toEqual({
          model: "m1",
          provider: "p",
          baseUrl: "https://api",
        });
        await index.patch(key, { modelOverride: { model: "m2", apiKey: secret, api_mode: "chat" } });
        expect((await index.get(key))?.modelOverride).toEqual({ model: "m2" });
        if (init.readStoredOverride) {
          const raw = JSON.stringify(await init.readStoredOverride(key));
          expect(raw).not.toContain(secret);
          expect(raw).not.toMatch(/api_?key/i);
        }
      });

      it("clears the override when nothing persistable remains", async () => {
        await index.put(entry({ modelOverride: { model: "m" } }));
        expect((await index.patch(key, { modelOverride: { apiKey: "x" } }))?.modelOverride).toBeNull();
        if (init.readStoredOverride) expect(await init.readStoredOverride(key)).toBeNull();
      });
    });

    describe("suspend and resume", () => {
      it("marks and clears resume-pending, with the mark time from the clock", async () => {
        await index.put(entry());
        clock.advance(100);
        expect(await index.markResumePending(key, "restart_timeout")).toBe(true);
        expect(await index.get(key)).toMatchObject({
          resumePending: true,
          resumeReason: "restart_timeout",
          resumeMarkedAt: clock.now(),
        });
        expect(await index.clearResumePending(key)).toBe(true);
        expect(await index.clearResumePending(key)).toBe(false);
        expect(await index.get(key)).toMatchObject({
          resumePending: false,
          resumeReason: null,
          resumeMarkedAt: null,
        });
      });

      it("never lets a resume mark override a suspend", async () => {
        await index.put(entry());
        expect(await index.suspend(key)).toBe(true);
        expect(await index.markResumePending(key, "restart_timeout")).toBe(false);
        expect(await index.get(key)).toMatchObject({ suspended: true, resumePending: false });
        expect(await index.suspend("key:none")).toBe(false);
        expect(await index.markResumePending("key:none", "x")).toBe(false);
      });

      it("marks only recently active, unsuspended, not yet pending entries resumable after a crash", async () => {
        await index.put(entry({ sessionKey: "key:old", sessionId: "old" }));
        clock.advance(10 * 60_000);
        await index.put(entry({ sessionKey: "key:recent", sessionId: "recent" }));
        await index.put(entry({ sessionKey: "key:suspended", sessionId: "sus", suspended: true }));
        await index.put(
          entry({ sessionKey: "key:pending", sessionId: "p", resumePending: true, resumeReason: "x" }),
        );
        clock.advance(30_000);
        expect(await index.markRecentlyActiveResumable(120_000)).toBe(1);
        expect(await index.get("key:recent")).toMatchObject({
          resumePending: true,
          resumeReason: "restart_interrupted",
        });
        expect(await index.get("key:old")).toMatchObject({ resumePending: false });
        expect(await index.get("key:pending")).toMatchObject({ resumeReason: "x" });
        expect(await index.count({ resumePending: true })).toBe(2);
      });
    });

    describe("pruning", () => {
      it("drops entries idle since before the cutoff, keeping suspended ones and the keys asked for", async () => {
        const start = clock.now();
        await index.put(entry({ sessionKey: "key:a", sessionId: "a" }));
        await index.put(entry({ sessionKey: "key:b", sessionId: "b" }));
        await index.put(entry({ sessionKey: "key:c", sessionId: "c" }));
        await index.suspend("key:c");
        clock.advance(5000);
        await index.put(entry({ sessionKey: "key:d", sessionId: "d" }));
        expect(await index.pruneOlderThan(start + 1000, { keepKeys: ["key:b"] })).toBe(1);
        expect((await index.list()).map((e) => e.sessionKey).sort()).toEqual(["key:b", "key:c", "key:d"]);
        expect(await index.pruneOlderThan(start + 1000)).toBe(1);
        expect(await index.count()).toBe(2);
      });
    });
  });
}
