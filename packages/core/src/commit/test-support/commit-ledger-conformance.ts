/**
 * The conformance suite every {@link CommitLedger} passes: the in-memory reference here, the
 * Postgres ledger of `@engram/store` on PGlite and on a real server. Test-only (imports Vitest),
 * kept out of the build.
 *
 * Isolation: `createLedger` is called once per test with a fresh manual clock; tests use
 * session and instance ids unique to the test, so a shared database only needs clearing if the
 * implementation wants it (`destroyLedger` runs after each test).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../gateway/clock.js";
import type { ClaimResult, CommitClaim, CommitLedger, SegmentOwner } from "../commit-ledger.js";

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 10, 23, 3)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface CommitLedgerTestInitializer {
  /** Suite title, e.g. "InMemoryCommitLedger" or "PostgresCommitLedger (PGlite)". */
  name: string;
  /** A ledger reading time from `clock` (lease and instance expiry). */
  createLedger(ctx: { clock: Clock }): CommitLedger | Promise<CommitLedger>;
  destroyLedger?(ledger: CommitLedger): unknown;
  beforeAll?(): unknown;
  afterAll?(): unknown;
  /** Hook timeout for `beforeAll` (database boot). */
  beforeAllTimeout?: number;
}

let counter = 0;
/** Ids unique to one test run and test. */
function uid(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

function expectClaimed(result: ClaimResult): CommitClaim {
  expect(result.status).toBe("claimed");
  if (result.status !== "claimed") throw new Error("unreachable");
  return result;
}

/** A seeded PRNG (mulberry32) so that failing interleavings can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function commitLedgerConformance(init: CommitLedgerTestInitializer): void {
  describe(`CommitLedger conformance: ${init.name}`, () => {
    let clock: ManualClock;
    let ledger: CommitLedger;
    let A: string;
    let B: string;
    let ownerA1: SegmentOwner;
    let ownerA2: SegmentOwner;
    let ownerB1: SegmentOwner;
    const LEASE = 10_000;
    const TTL = 30_000;

    if (init.beforeAll) beforeAll(async () => void (await init.beforeAll?.()), init.beforeAllTimeout);
    if (init.afterAll) afterAll(async () => void (await init.afterAll?.()));

    async function fresh(): Promise<void> {
      clock = manualClock();
      ledger = await init.createLedger({ clock });
      A = uid("inst-a");
      B = uid("inst-b");
      ownerA1 = { instanceId: A, agentId: "a1" };
      ownerA2 = { instanceId: A, agentId: "a2" };
      ownerB1 = { instanceId: B, agentId: "b1" };
      await ledger.heartbeat(A, TTL);
      await ledger.heartbeat(B, TTL);
    }

    afterEach(async () => {
      if (ledger !== undefined) await init.destroyLedger?.(ledger);
    });

    const claim = (
      sessionId: string,
      instanceId: string,
      fallbackOwner: SegmentOwner | null = null,
      leaseMs = LEASE,
    ) => Promise.resolve(ledger.claimCommit(sessionId, { instanceId, fallbackOwner, leaseMs }));

    it("numbers completed turns 1, 2, 3 per session and reports them as uncommitted", async () => {
      await fresh();
      const s = uid("s");
      const other = uid("s");
      expect(await ledger.hasUncommittedWork(s)).toBe(false);
      expect(await ledger.markTurnCompleted(s, ownerA1)).toBe(1);
      expect(await ledger.markTurnCompleted(s, ownerA1)).toBe(2);
      expect(await ledger.markTurnCompleted(other, null)).toBe(1);
      expect(await ledger.markTurnCompleted(s, ownerA1)).toBe(3);
      expect(await ledger.hasUncommittedWork(s)).toBe(true);
      expect(await ledger.hasUncommittedWork(other)).toBe(true);
    });

    it("counts every mark in the generation counter, committed or not", async () => {
      await fresh();
      const s = uid("s");
      expect(await ledger.generationOf(s)).toBe(0);
      await ledger.markTurnCompleted(s, ownerA1);
      await ledger.markTurnCompleted(s, ownerB1);
      expect(await ledger.generationOf(s)).toBe(2);
      await ledger.completeCommit(expectClaimed(await claim(s, A)));
      expect(await ledger.generationOf(s)).toBe(2);
    });

    it("answers clean for an unknown or fully committed session", async () => {
      await fresh();
      const s = uid("s");
      expect((await claim(s, A, ownerA1)).status).toBe("clean");
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A));
      expect(await ledger.completeCommit(c)).toBe("clean");
      expect(await ledger.hasUncommittedWork(s)).toBe(false);
      expect((await claim(s, A, ownerA1)).status).toBe("clean");
    });

    it("captures the earliest segment and clears exactly it on completion", async () => {
      await fresh();
      const s = uid("s");
      for (let i = 0; i < 3; i++) await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A));
      expect([c.start, c.end, c.owner.agentId, c.instanceId, c.sessionId]).toEqual([1, 3, "a1", A, s]);
      expect(c.expiresAt).toBe(clock.now() + LEASE);
      expect(await ledger.completeCommit(c)).toBe("clean");
      expect(await ledger.dirtySessions()).not.toContain(s);
    });

    it("never reuses a generation number after everything is committed", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      await ledger.completeCommit(expectClaimed(await claim(s, A)));
      expect(await ledger.markTurnCompleted(s, ownerA1)).toBe(2);
      const c = expectClaimed(await claim(s, A));
      expect([c.start, c.end]).toEqual([2, 2]);
    });

    it("keeps a turn completed while the commit was in flight uncommitted (late completion)", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A));
      expect(await ledger.markTurnCompleted(s, ownerA1)).toBe(3);
      expect(await ledger.completeCommit(c)).toBe("dirty");
      expect(await ledger.hasUncommittedWork(s)).toBe(true);
      const next = expectClaimed(await claim(s, A));
      expect([next.start, next.end, next.owner.agentId]).toEqual([3, 3, "a1"]);
      expect(await ledger.completeCommit(next)).toBe("clean");
    });

    it("splits segments by owner and commits them one at a time in generation order", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      await ledger.markTurnCompleted(s, ownerA1);
      await ledger.markTurnCompleted(s, ownerA2);
      await ledger.markTurnCompleted(s, ownerA1);
      const first = expectClaimed(await claim(s, A, ownerA2));
      expect([first.start, first.end, first.owner.agentId]).toEqual([1, 2, "a1"]);
      expect(await ledger.completeCommit(first)).toBe("dirty");
      const second = expectClaimed(await claim(s, A, ownerA1));
      expect([second.start, second.end, second.owner.agentId]).toEqual([3, 3, "a2"]);
      expect(await ledger.completeCommit(second)).toBe("dirty");
      const third = expectClaimed(await claim(s, A));
      expect([third.start, third.end, third.owner.agentId]).toEqual([4, 4, "a1"]);
      expect(await ledger.completeCommit(third)).toBe("clean");
    });

    it("holds one lease per session: a second claim sees in_flight until release", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A));
      const second = await claim(s, A, ownerA1);
      expect(second.status).toBe("in_flight");
      if (second.status === "in_flight") expect(second.expiresAt).toBe(c.expiresAt);
      expect(await ledger.releaseCommit(c)).toBe(true);
      expect((await claim(s, A)).status).toBe("claimed");
    });

    it("hands out distinct consecutive generations to concurrent marks", async () => {
      await fresh();
      const sessions = [uid("s"), uid("s"), uid("s")];
      const owners = [ownerA1, ownerA2, null];
      const marks = await Promise.all(
        Array.from({ length: 45 }, (_, i) =>
          Promise.resolve(ledger.markTurnCompleted(sessions[i % 3]!, owners[Math.floor(i / 3) % 3]!)).then(
            (generation) => ({ session: sessions[i % 3]!, generation }),
          ),
        ),
      );
      for (const s of sessions) {
        const generations = marks.filter((m) => m.session === s).map((m) => m.generation);
        expect(generations.sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      }
      // Concurrent completions of claims on different sessions each clear their own segment.
      const claims = await Promise.all(sessions.map((s) => claim(s, A, ownerA1)));
      const results = await Promise.all(claims.map((c) => ledger.completeCommit(expectClaimed(c))));
      expect(results.every((r) => r === "dirty" || r === "clean")).toBe(true);
    });

    it("lets exactly one of many concurrent claims win", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      const results = await Promise.all(Array.from({ length: 12 }, () => claim(s, A, ownerA1)));
      expect(results.filter((r) => r.status === "claimed")).toHaveLength(1);
      expect(results.filter((r) => r.status === "in_flight")).toHaveLength(11);
    });

    it("keeps the segment and its owner when a commit is released (failed)", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A));
      expect(await ledger.releaseCommit(c)).toBe(true);
      expect(await ledger.hasUncommittedWork(s)).toBe(true);
      // A replacement agent offered as fallback does not take the segment over.
      const retry = expectClaimed(await claim(s, A, ownerA2));
      expect([retry.start, retry.end, retry.owner.agentId]).toEqual([1, 2, "a1"]);
    });

    it("adopts an ownerless segment with the fallback owner, and the adoption survives a failure", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, null);
      expect((await claim(s, A)).status).toBe("no_owner");
      const c = expectClaimed(await claim(s, A, ownerA1));
      expect(c.owner).toEqual(ownerA1);
      await ledger.releaseCommit(c);
      const retry = expectClaimed(await claim(s, A, ownerA2));
      expect(retry.owner).toEqual(ownerA1);
    });

    it("never claims a segment owned by another live instance", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerB1);
      const r = await claim(s, A, ownerA1);
      expect(r.status).toBe("foreign_owner");
      if (r.status === "foreign_owner") expect(r.owner).toEqual(ownerB1);
      expect(await ledger.dirtySessions({ committableBy: A })).not.toContain(s);
      expect(await ledger.dirtySessions({ committableBy: B })).toContain(s);
    });

    it("lets a live instance adopt the segments of an instance whose heartbeat lapsed", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerB1);
      await ledger.markTurnCompleted(s, ownerB1);
      clock.advance(TTL / 2);
      await ledger.heartbeat(A, TTL);
      await ledger.heartbeat(B, TTL); // B is still alive here
      expect((await claim(s, A, ownerA1)).status).toBe("foreign_owner");
      clock.advance(TTL + 1);
      await ledger.heartbeat(A, TTL);
      expect(await ledger.dirtySessions({ committableBy: A })).toContain(s);
      expect((await claim(s, A)).status).toBe("no_owner");
      const c = expectClaimed(await claim(s, A, ownerA1));
      expect([c.start, c.end, c.owner.agentId, c.instanceId]).toEqual([1, 2, "a1", A]);
      expect(await ledger.completeCommit(c)).toBe("clean");
    });

    it("makes a retired instance's segments adoptable at once", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerB1);
      await ledger.retireInstance(B);
      expect(expectClaimed(await claim(s, A, ownerA1)).owner).toEqual(ownerA1);
    });

    it("reaps the instances of a prefix but the caller: their segments are adoptable and their leases released at once", async () => {
      await fresh();
      const name = uid("gw");
      const dead = `${name}:run-1`;
      const me = `${name}:run-2`;
      const other = `${name}x:run-1`;
      await ledger.heartbeat(dead, TTL);
      await ledger.heartbeat(me, TTL);
      await ledger.heartbeat(other, TTL);
      const owned = uid("s");
      const leased = uid("s");
      const others = uid("s");
      await ledger.markTurnCompleted(owned, { instanceId: dead, agentId: "d1" });
      await ledger.markTurnCompleted(leased, { instanceId: dead, agentId: "d1" });
      await ledger.markTurnCompleted(others, { instanceId: other, agentId: "o1" });
      const inFlight = expectClaimed(await claim(leased, dead));
      expect((await claim(owned, me, { instanceId: me, agentId: "m1" })).status).toBe("foreign_owner");

      const report = await ledger.reapInstances({ prefix: `${name}:`, keep: me });
      expect(report).toEqual({ instances: [dead], releasedLeases: 1 });
      expect(expectClaimed(await claim(owned, me, { instanceId: me, agentId: "m1" })).owner).toEqual({
        instanceId: me,
        agentId: "m1",
      });
      const taken = expectClaimed(await claim(leased, me, { instanceId: me, agentId: "m1" }));
      expect(await ledger.completeCommit(inFlight)).toBe("lost");
      expect(await ledger.completeCommit(taken)).toBe("clean");
      // Another name that merely shares the characters is not reaped, and neither is the caller.
      expect((await claim(others, me, { instanceId: me, agentId: "m1" })).status).toBe("foreign_owner");
      expect(await ledger.reapInstances({ prefix: `${name}:`, keep: me })).toEqual({
        instances: [],
        releasedLeases: 0,
      });
      const mine = uid("s");
      await ledger.markTurnCompleted(mine, { instanceId: me, agentId: "m1" });
      expect((await claim(mine, B, ownerB1)).status).toBe("foreign_owner");
    });

    it("treats a never-registered instance as dead", async () => {
      await fresh();
      const s = uid("s");
      const ghost = { instanceId: uid("ghost"), agentId: "g" };
      await ledger.markTurnCompleted(s, ghost);
      expect(expectClaimed(await claim(s, A, ownerA1)).owner).toEqual(ownerA1);
    });

    it("lets an expired lease be taken over; the old holder then completes nothing", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      const old = expectClaimed(await claim(s, A, null, 1_000));
      clock.advance(999);
      expect((await claim(s, A)).status).toBe("in_flight");
      clock.advance(2);
      await ledger.heartbeat(A, TTL);
      const taken = expectClaimed(await claim(s, A));
      expect(taken.leaseId).not.toBe(old.leaseId);
      expect(await ledger.renewCommit(old, 1_000)).toBe(false);
      expect(await ledger.completeCommit(old)).toBe("lost");
      expect(await ledger.releaseCommit(old)).toBe(false);
      expect(await ledger.hasUncommittedWork(s)).toBe(true);
      expect(await ledger.completeCommit(taken)).toBe("clean");
    });

    it("lets the holder complete a lease that expired without being taken over", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A, null, 1_000));
      clock.advance(5_000);
      expect(await ledger.completeCommit(c)).toBe("clean");
    });

    it("extends a lease on renewal", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A, null, 1_000));
      clock.advance(800);
      expect(await ledger.renewCommit(c, 1_000)).toBe(true);
      clock.advance(800);
      expect((await claim(s, A)).status).toBe("in_flight");
      expect(await ledger.completeCommit(c)).toBe("clean");
    });

    it("answers lost, changing nothing, when completing or releasing twice", async () => {
      await fresh();
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      const c = expectClaimed(await claim(s, A));
      expect(await ledger.completeCommit(c)).toBe("clean");
      await ledger.markTurnCompleted(s, ownerA1);
      expect(await ledger.completeCommit(c)).toBe("lost");
      expect(await ledger.releaseCommit(c)).toBe(false);
      expect(await ledger.hasUncommittedWork(s)).toBe(true);
    });

    it("lists dirty sessions, including leased ones, and honours the limit", async () => {
      await fresh();
      const dirty = [uid("s"), uid("s"), uid("s")];
      const clean = uid("s");
      for (const s of dirty) await ledger.markTurnCompleted(s, ownerA1);
      await ledger.markTurnCompleted(clean, ownerA1);
      await ledger.completeCommit(expectClaimed(await claim(clean, A)));
      expectClaimed(await claim(dirty[0]!, A));
      const listed = await ledger.dirtySessions();
      for (const s of dirty) expect(listed).toContain(s);
      expect(listed).not.toContain(clean);
      const mine = await ledger.dirtySessions({ committableBy: A });
      for (const s of dirty) expect(mine).toContain(s);
      expect(await ledger.dirtySessions({ limit: 1 })).toHaveLength(1);
    });

    it("wakes waiters when a lease is released, if it offers waitForRelease", async () => {
      await fresh();
      if (ledger.waitForRelease === undefined) return;
      const s = uid("s");
      await ledger.markTurnCompleted(s, ownerA1);
      await expect(ledger.waitForRelease(s, 10)).resolves.toBeUndefined(); // no lease: at once
      const c = expectClaimed(await claim(s, A));
      let woke = false;
      const waiting = ledger.waitForRelease(s, 60_000).then(() => {
        woke = true;
      });
      await new Promise((r) => setTimeout(r, 5));
      expect(woke).toBe(false);
      await ledger.releaseCommit(c);
      await waiting;
      expect(woke).toBe(true);
      expectClaimed(await claim(s, A));
      const started = Date.now();
      await ledger.waitForRelease(s, 20); // held: returns at the timeout
      expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    });

    it("commits every generation exactly once over random interleavings of two instances", async () => {
      await fresh();
      for (let seed = 1; seed <= 12; seed++) {
        const random = rng(seed);
        const s = uid(`rand${seed}`);
        const owners = [ownerA1, ownerA2, ownerB1];
        const held: CommitClaim[] = [];
        const committed: Array<[number, number]> = [];
        let marked = 0;
        for (let step = 0; step < 60; step++) {
          const roll = random();
          if (roll < 0.45) {
            marked = await ledger.markTurnCompleted(s, owners[Math.floor(random() * owners.length)]!);
          } else if (roll < 0.7) {
            const instance = random() < 0.5 ? A : B;
            const fallback = instance === A ? ownerA1 : ownerB1;
            const r = await claim(s, instance, fallback);
            if (r.status === "claimed") held.push(r);
          } else if (held.length > 0) {
            const c = held.splice(Math.floor(random() * held.length), 1)[0]!;
            if (random() < 0.75) {
              if ((await ledger.completeCommit(c)) !== "lost") committed.push([c.start, c.end]);
            } else {
              await ledger.releaseCommit(c);
            }
          }
        }
        for (const c of held)
          if ((await ledger.completeCommit(c)) !== "lost") committed.push([c.start, c.end]);
        // Drain what is left with both instances.
        for (let guard = 0; guard < 200 && (await ledger.hasUncommittedWork(s)); guard++) {
          for (const [instance, fallback] of [
            [A, ownerA1],
            [B, ownerB1],
          ] as const) {
            const r = await claim(s, instance, fallback);
            if (r.status === "claimed" && (await ledger.completeCommit(r)) !== "lost")
              committed.push([r.start, r.end]);
          }
        }
        expect(await ledger.hasUncommittedWork(s)).toBe(false);
        const covered = new Array<number>(marked + 1).fill(0);
        for (const [start, end] of committed)
          for (let g = start; g <= end; g++) covered[g] = (covered[g] ?? 0) + 1;
        expect(covered.slice(1), `seed ${seed}`).toEqual(new Array(marked).fill(1));
      }
    });
  });
}
