import { isEngramError, type SessionKeyLock } from "@engram/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";

/**
 * One implementation under test. `createLock` is called once per racing "process" of a test: locks
 * created for one test must exclude each other as the processes sharing one database do (the
 * in-memory reference returns one shared instance). `afterEach` closes every created lock.
 */
export interface SessionKeyLockTestInitializer {
  readonly name: string;
  readonly beforeAll?: () => Promise<void>;
  readonly createLock: () => SessionKeyLock | Promise<SessionKeyLock>;
  /** Called after each test, once its locks are closed (drop a shared instance here). */
  readonly reset?: () => void;
  /** Racing processes per race test (default 3). */
  readonly processes?: number;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise with its resolver, to hold a lock until the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The conformance suite of {@link SessionKeyLock}: every implementation must pass it. */
export function sessionKeyLockConformance(init: SessionKeyLockTestInitializer): void {
  describe(`SessionKeyLock conformance: ${init.name}`, () => {
    const created = new Set<SessionKeyLock>();
    const lock = async () => {
      const made = await init.createLock();
      created.add(made);
      return made;
    };
    if (init.beforeAll) beforeAll(init.beforeAll);
    afterEach(async () => {
      await Promise.all([...created].map((made) => made.close()));
      created.clear();
      init.reset?.();
    });
    const suffix = () => Math.random().toString(36).slice(2);

    it("lets one holder of a key in at a time when many callers of several processes race for it", async () => {
      const processes = await Promise.all(Array.from({ length: init.processes ?? 3 }, lock));
      const keys = [`race-a-${suffix()}`, `race-b-${suffix()}`];
      const inside = new Map<string, number>(keys.map((key) => [key, 0]));
      let overlaps = 0;
      let concurrentKeys = 0;
      const ran: string[] = [];
      const start = gate();
      const callers = Array.from({ length: 60 }, async (_, i) => {
        const key = keys[i % 2]!;
        await start.promise;
        return processes[i % processes.length]!.withLock(key, async () => {
          if (inside.get(key)! > 0) overlaps++;
          inside.set(key, inside.get(key)! + 1);
          if ([...inside.values()].every((n) => n > 0)) concurrentKeys++;
          // Yield a random number of times so holders of other processes get every chance to slip in.
          for (let n = Math.floor(Math.random() * 4); n >= 0; n--) await tick();
          ran.push(`${key}#${i}`);
          inside.set(key, inside.get(key)! - 1);
          return i;
        });
      });
      start.open();
      expect(await Promise.all(callers)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(overlaps).toBe(0);
      expect(new Set(ran).size).toBe(60);
      // The two keys were held at the same time at least once: keys do not exclude each other.
      expect(concurrentKeys).toBeGreaterThan(0);
    });

    it("does not make a key wait while another key is held, even by another process", async () => {
      const [first, second] = [await lock(), await lock()];
      const held = gate();
      const entered = gate();
      const a = `held-${suffix()}`;
      const holding = first!.withLock(a, async () => {
        entered.open();
        await held.promise;
        return "a done";
      });
      await entered.promise;
      let sameKeyRan = false;
      const sameKey = second!.withLock(a, async () => {
        sameKeyRan = true;
      });
      expect(await second!.withLock(`other-${suffix()}`, async () => "other ran")).toBe("other ran");
      expect(sameKeyRan).toBe(false);
      held.open();
      expect(await holding).toBe("a done");
      await sameKey;
      expect(sameKeyRan).toBe(true);
    });

    it("releases the key when the holder throws and rejects with the holder's error", async () => {
      const [first, second] = [await lock(), await lock()];
      const key = `throws-${suffix()}`;
      const failure = new Error("turn failed");
      await expect(first!.withLock(key, () => Promise.reject(failure))).rejects.toBe(failure);
      expect(await second!.withLock(key, async () => "next")).toBe("next");
      expect(await first!.withLock(key, async () => "again")).toBe("again");
    });

    it("refuses new callers once closed, with a coded error", async () => {
      const closed = await lock();
      await closed.close();
      const refused = await closed.withLock(`closed-${suffix()}`, async () => "ran").catch((e: unknown) => e);
      expect(isEngramError(refused) && refused.code).toBe("STORE_FAILED");
    });
  });
}
