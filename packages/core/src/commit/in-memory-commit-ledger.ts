import { InvalidArgumentError } from "../errors/engram-error.js";
import { type Clock, systemClock } from "../gateway/clock.js";
import {
  type ClaimCommitProps,
  type ClaimResult,
  type CommitClaim,
  type CommitLedger,
  type CompleteResult,
  type DirtySessionsProps,
  type ReapInstancesProps,
  type ReapReport,
  type SegmentOwner,
  sameOwner,
} from "./commit-ledger.js";

export interface InMemoryCommitLedgerProps {
  /** Reads lease and instance expiry. Default: the system clock. */
  clock?: Clock;
}

interface Segment {
  start: number;
  end: number;
  owner: SegmentOwner | null;
}

interface Entry {
  generation: number;
  committed: number;
  /** Uncommitted segments in generation order; `segments[0].end > committed` always holds. */
  segments: Segment[];
  lease: CommitClaim | null;
  waiters: Set<() => void> | null;
}

const CLEAN = Object.freeze({ status: "clean" as const });
const NO_OWNER = Object.freeze({ status: "no_owner" as const });
/** `setTimeout` fires at once for delays above 2^31-1 ms; waits that long simply get no timer. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The reference {@link CommitLedger} for one process: plain objects in a `Map`, every method
 * synchronous (except the optional wait), no promise allocated on the hot path. Several
 * coordinators may share one instance (that is how the tests model several processes).
 */
export class InMemoryCommitLedger implements CommitLedger {
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  private readonly instances = new Map<string, number>();
  private leaseSeq = 0;

  constructor(props: InMemoryCommitLedgerProps = {}) {
    this.clock = props.clock ?? systemClock;
  }

  markTurnCompleted(sessionId: string, owner: SegmentOwner | null): number {
    let entry = this.entries.get(sessionId);
    if (entry === undefined) {
      entry = { generation: 0, committed: 0, segments: [], lease: null, waiters: null };
      this.entries.set(sessionId, entry);
    }
    const generation = ++entry.generation;
    const segments = entry.segments;
    const last = segments[segments.length - 1];
    // Extending a segment an in-flight claim captured is safe: the claim copied its `end`, and
    // completion trims the segment instead of dropping it.
    if (last !== undefined && sameOwner(last.owner, owner)) last.end = generation;
    else segments.push({ start: generation, end: generation, owner });
    return generation;
  }

  generationOf(sessionId: string): number {
    return this.entries.get(sessionId)?.generation ?? 0;
  }

  hasUncommittedWork(sessionId: string): boolean {
    const entry = this.entries.get(sessionId);
    return entry !== undefined && entry.generation > entry.committed;
  }

  claimCommit(sessionId: string, props: ClaimCommitProps): ClaimResult {
    const entry = this.entries.get(sessionId);
    if (entry === undefined || entry.generation <= entry.committed) return CLEAN;
    const now = this.clock.now();
    const lease = entry.lease;
    if (lease !== null && lease.expiresAt > now) return { status: "in_flight", expiresAt: lease.expiresAt };
    const segment = entry.segments[0];
    if (segment === undefined) return CLEAN; // unreachable while generation > committed
    let owner = segment.owner;
    if (owner === null || (owner.instanceId !== props.instanceId && !this.isAlive(owner.instanceId, now))) {
      const fallback = props.fallbackOwner;
      if (fallback === undefined || fallback === null) return NO_OWNER;
      segment.owner = owner = fallback;
    } else if (owner.instanceId !== props.instanceId) {
      return { status: "foreign_owner", owner };
    }
    const claim: CommitClaim = {
      status: "claimed",
      sessionId,
      leaseId: ++this.leaseSeq,
      instanceId: props.instanceId,
      start: segment.start,
      end: segment.end,
      owner,
      expiresAt: now + props.leaseMs,
    };
    entry.lease = claim;
    return claim;
  }

  renewCommit(claim: CommitClaim, leaseMs: number): boolean {
    const entry = this.entries.get(claim.sessionId);
    const lease = entry?.lease;
    if (entry === undefined || lease == null || lease.leaseId !== claim.leaseId) return false;
    entry.lease = { ...lease, expiresAt: this.clock.now() + leaseMs };
    return true;
  }

  completeCommit(claim: CommitClaim): CompleteResult {
    const entry = this.entries.get(claim.sessionId);
    if (entry === undefined || entry.lease === null || entry.lease.leaseId !== claim.leaseId) return "lost";
    entry.lease = null;
    if (claim.end > entry.committed) entry.committed = claim.end;
    const committed = entry.committed;
    const segments = entry.segments;
    let drop = 0;
    while (drop < segments.length && segments[drop]!.end <= committed) drop++;
    if (drop === segments.length) segments.length = 0;
    else if (drop === 1) segments.shift();
    else if (drop > 1) segments.splice(0, drop);
    const head = segments[0];
    if (head !== undefined && head.start <= committed) head.start = committed + 1;
    this.notify(entry);
    return entry.generation > committed ? "dirty" : "clean";
  }

  releaseCommit(claim: CommitClaim): boolean {
    const entry = this.entries.get(claim.sessionId);
    if (entry === undefined || entry.lease === null || entry.lease.leaseId !== claim.leaseId) return false;
    entry.lease = null;
    this.notify(entry);
    return true;
  }

  dirtySessions(props: DirtySessionsProps = {}): string[] {
    const out: string[] = [];
    const limit = props.limit ?? Number.POSITIVE_INFINITY;
    const instanceId = props.committableBy;
    const now = this.clock.now();
    for (const [sessionId, entry] of this.entries) {
      if (out.length >= limit) break;
      if (entry.generation <= entry.committed) continue;
      if (instanceId !== undefined) {
        const owner = entry.segments[0]?.owner ?? null;
        if (owner !== null && owner.instanceId !== instanceId && this.isAlive(owner.instanceId, now))
          continue;
      }
      out.push(sessionId);
    }
    return out;
  }

  heartbeat(instanceId: string, ttlMs: number): void {
    this.instances.set(instanceId, this.clock.now() + ttlMs);
  }

  retireInstance(instanceId: string): void {
    this.instances.delete(instanceId);
  }

  reapInstances({ prefix, keep }: ReapInstancesProps): ReapReport {
    if (!prefix) throw new InvalidArgumentError("prefix", "must be a non-empty string");
    const instances: string[] = [];
    for (const instanceId of [...this.instances.keys()]) {
      if (instanceId === keep || !instanceId.startsWith(prefix)) continue;
      this.instances.delete(instanceId);
      instances.push(instanceId);
    }
    let releasedLeases = 0;
    for (const entry of this.entries.values()) {
      const holder = entry.lease?.instanceId;
      if (holder === undefined || holder === keep || !holder.startsWith(prefix)) continue;
      entry.lease = null;
      releasedLeases++;
      this.notify(entry);
    }
    return { instances: instances.sort(), releasedLeases };
  }

  waitForRelease(sessionId: string, timeoutMs: number): Promise<void> {
    const entry = this.entries.get(sessionId);
    const lease = entry?.lease;
    if (entry === undefined || lease == null) return Promise.resolve();
    const untilExpiry = lease.expiresAt - this.clock.now();
    if (untilExpiry <= 0 || timeoutMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        entry.waiters?.delete(done);
        resolve();
      };
      if (entry.waiters === null) entry.waiters = new Set();
      entry.waiters.add(done);
      const delay = Math.min(timeoutMs, untilExpiry);
      if (delay <= MAX_TIMER_MS) timer = setTimeout(done, delay);
    });
  }

  private isAlive(instanceId: string, now: number): boolean {
    const until = this.instances.get(instanceId);
    return until !== undefined && until > now;
  }

  private notify(entry: Entry): void {
    const waiters = entry.waiters;
    if (waiters === null || waiters.size === 0) return;
    entry.waiters = null;
    for (const wake of waiters) wake();
  }
}
