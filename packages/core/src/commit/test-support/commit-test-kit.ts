/**
 * Test helpers for the commit lifecycle: deferred promises, scriptable agents and a ledger wrapper
 * that records every claim and completion (optionally answering asynchronously, to model a remote
 * ledger). Test-only; kept out of the build.
 */
import type {
  ClaimCommitProps,
  ClaimResult,
  CommitClaim,
  CommitLedger,
  CompleteResult,
  DirtySessionsProps,
  ReapInstancesProps,
  ReapReport,
  SegmentOwner,
} from "../commit-ledger.js";
import type { CommittableAgent } from "../committable-agent.js";
import type { MaybePromise } from "../maybe-promise.js";

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued microtasks and already-resolved continuations run. */
export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What one call of `commitMemorySession` does. */
export type AgentStep =
  | "ok"
  | "throw"
  | { gate: Deferred<void> }
  | { asyncOk: number }
  | { asyncFail: number }
  | "hang";

/**
 * An agent whose commits follow a script (then `fallback`), counting calls and overlaps.
 * `gate` steps wait for the test to resolve/reject the deferred.
 */
export class ScriptedAgent implements CommittableAgent {
  calls = 0;
  running = 0;
  maxRunning = 0;
  successes = 0;
  readonly script: AgentStep[] = [];
  fallback: AgentStep = "ok";
  onCall: ((agent: ScriptedAgent) => void) | undefined;

  constructor(readonly name: string) {}

  plan(...steps: AgentStep[]): this {
    this.script.push(...steps);
    return this;
  }

  commitMemorySession(): Promise<void> | void {
    this.calls++;
    this.onCall?.(this);
    const step = this.script.shift() ?? this.fallback;
    if (step === "ok") {
      this.successes++;
      return;
    }
    if (step === "throw") throw new Error(`${this.name}: commit failed`);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const done = (ok: boolean) => {
      this.running--;
      if (ok) this.successes++;
    };
    if (step === "hang") return new Promise<void>(() => {});
    if ("gate" in step) {
      return step.gate.promise.then(
        () => done(true),
        (error: unknown) => {
          done(false);
          throw error;
        },
      );
    }
    const ok = "asyncOk" in step;
    const ticks = ok ? step.asyncOk : step.asyncFail;
    return (async () => {
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      done(ok);
      if (!ok) throw new Error(`${this.name}: async commit failed`);
    })();
  }
}

export interface RecordedCommit {
  sessionId: string;
  start: number;
  end: number;
  owner: SegmentOwner;
}

export interface RecordingLedgerProps {
  /**
   * Answer every call asynchronously after this many microtask hops (a function picks per call),
   * and hide `waitForRelease`, to model a remote ledger that must be polled.
   */
  asyncHops?: number | (() => number);
}

/** Wraps a ledger, recording claims and successful completions. */
export class RecordingLedger implements CommitLedger {
  readonly completed: RecordedCommit[] = [];
  /** The live claim per session, as last seen. */
  readonly liveClaims = new Map<string, CommitClaim>();
  claims = 0;
  readonly waitForRelease?: (sessionId: string, timeoutMs: number) => Promise<void>;

  constructor(
    readonly inner: CommitLedger,
    private readonly props: RecordingLedgerProps = {},
  ) {
    if (props.asyncHops === undefined && inner.waitForRelease) {
      this.waitForRelease = (sessionId, timeoutMs) => inner.waitForRelease!(sessionId, timeoutMs);
    }
  }

  private answer<T>(compute: () => MaybePromise<T>): MaybePromise<T> {
    const hops = this.props.asyncHops;
    if (hops === undefined) return compute();
    const before = typeof hops === "function" ? hops() : hops;
    const after = typeof hops === "function" ? hops() : hops;
    // Hops before and after the work: like a pool of connections, a call can be applied before an
    // earlier one yet answered after it.
    return (async () => {
      for (let i = 0; i < before; i++) await Promise.resolve();
      const value = await compute();
      for (let i = 0; i < after; i++) await Promise.resolve();
      return value;
    })();
  }

  markTurnCompleted(sessionId: string, owner: SegmentOwner | null): MaybePromise<number> {
    return this.answer(() => this.inner.markTurnCompleted(sessionId, owner));
  }
  generationOf(sessionId: string): MaybePromise<number> {
    return this.answer(() => this.inner.generationOf(sessionId));
  }
  hasUncommittedWork(sessionId: string): MaybePromise<boolean> {
    return this.answer(() => this.inner.hasUncommittedWork(sessionId));
  }
  claimCommit(sessionId: string, props: ClaimCommitProps): MaybePromise<ClaimResult> {
    return this.answer(() => {
      const result = this.inner.claimCommit(sessionId, props);
      const record = (r: ClaimResult): ClaimResult => {
        if (r.status === "claimed") {
          this.claims++;
          this.liveClaims.set(sessionId, r);
        }
        return r;
      };
      return result instanceof Promise ? result.then(record) : record(result);
    });
  }
  renewCommit(claim: CommitClaim, leaseMs: number): MaybePromise<boolean> {
    return this.answer(() => this.inner.renewCommit(claim, leaseMs));
  }
  completeCommit(claim: CommitClaim): MaybePromise<CompleteResult> {
    return this.answer(() => {
      const result = this.inner.completeCommit(claim);
      const record = (r: CompleteResult): CompleteResult => {
        if (r !== "lost") {
          this.completed.push({
            sessionId: claim.sessionId,
            start: claim.start,
            end: claim.end,
            owner: claim.owner,
          });
        }
        return r;
      };
      return result instanceof Promise ? result.then(record) : record(result);
    });
  }
  releaseCommit(claim: CommitClaim): MaybePromise<boolean> {
    return this.answer(() => this.inner.releaseCommit(claim));
  }
  dirtySessions(props?: DirtySessionsProps): MaybePromise<string[]> {
    return this.answer(() => this.inner.dirtySessions(props));
  }
  heartbeat(instanceId: string, ttlMs: number): MaybePromise<void> {
    return this.answer(() => this.inner.heartbeat(instanceId, ttlMs));
  }
  retireInstance(instanceId: string): MaybePromise<void> {
    return this.answer(() => this.inner.retireInstance(instanceId));
  }
  reapInstances(props: ReapInstancesProps): MaybePromise<ReapReport> {
    return this.answer(() => this.inner.reapInstances(props));
  }

  /** How many times each generation of `sessionId` was committed, index = generation. */
  coverage(sessionId: string, generations: number): number[] {
    const counts = new Array<number>(generations + 1).fill(0);
    for (const c of this.completed) {
      if (c.sessionId !== sessionId) continue;
      for (let g = c.start; g <= c.end; g++) counts[g] = (counts[g] ?? 0) + 1;
    }
    return counts.slice(1);
  }
}

/** A seeded PRNG (mulberry32): failing interleavings can be replayed from the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
