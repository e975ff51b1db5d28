import type { MaybePromise } from "./maybe-promise.js";

/**
 * Who owns an ownership segment: the agent `agentId` living in the process `instanceId`. Agent
 * handles are process-local, so the ledger stores only this pair; the coordinator of instance
 * `instanceId` maps `agentId` back to its handle. Treat it as immutable once passed to a ledger.
 */
export interface SegmentOwner {
  readonly instanceId: string;
  readonly agentId: string;
}

/** True when both owners name the same agent of the same instance. */
export function sameOwner(a: SegmentOwner | null, b: SegmentOwner | null): boolean {
  return a === b || (a !== null && b !== null && a.instanceId === b.instanceId && a.agentId === b.agentId);
}

/**
 * A held in-flight lease on one session: the caller may run the commit of generations
 * `start..end` (inclusive) with the agent `owner`, until `expiresAt` unless renewed.
 */
export interface CommitClaim {
  readonly status: "claimed";
  readonly sessionId: string;
  /** Ledger-issued lease token; never reused for the same session. */
  readonly leaseId: number;
  /** Instance holding the lease. */
  readonly instanceId: string;
  /** First generation of the captured segment. */
  readonly start: number;
  /** Last generation of the captured segment: what completing the claim commits. */
  readonly end: number;
  /** The agent whose `commitMemorySession()` commits the segment. */
  readonly owner: SegmentOwner;
  /** Epoch ms (ledger clock) after which another instance may take the lease over. */
  readonly expiresAt: number;
}

/**
 * What `claimCommit` found:
 * - `claimed`: the lease is yours (see {@link CommitClaim});
 * - `in_flight`: another unexpired lease holds the session;
 * - `clean`: nothing uncommitted (or the session is unknown);
 * - `no_owner`: the earliest uncommitted segment has no owner (or a dead instance's owner) and no
 *   `fallbackOwner` was given;
 * - `foreign_owner`: the earliest uncommitted segment belongs to another live instance.
 */
export type ClaimResult =
  | CommitClaim
  | { readonly status: "in_flight"; readonly expiresAt: number }
  | { readonly status: "clean" }
  | { readonly status: "no_owner" }
  | { readonly status: "foreign_owner"; readonly owner: SegmentOwner };

export type ClaimStatus = ClaimResult["status"];

export interface ClaimCommitProps {
  /** The claiming instance; a segment owned by another live instance is never claimed. */
  instanceId: string;
  /**
   * Owner to adopt the earliest uncommitted segment with when it has none, or when its owner's
   * instance is dead. Must belong to `instanceId`. The adoption sticks even if the commit fails.
   */
  fallbackOwner?: SegmentOwner | null | undefined;
  /** Lease duration in ms. */
  leaseMs: number;
}

/**
 * What `completeCommit` did:
 * - `clean`: the captured segment is committed and no uncommitted generation remains;
 * - `dirty`: the captured segment is committed; later generations remain uncommitted;
 * - `lost`: the lease was no longer held by this claim (taken over after expiry): nothing changed.
 */
export type CompleteResult = "clean" | "dirty" | "lost";

export interface DirtySessionsProps {
  /**
   * Only sessions whose earliest uncommitted segment this instance could claim: owned by it, by
   * nobody, or by a dead instance. Sessions held by a lease are included (a drain waits for them).
   */
  committableBy?: string;
  /** At most this many ids (the ledger's choice of which). Default: all. */
  limit?: number;
}

export interface ReapInstancesProps {
  /** Registrations (and lease holders) whose instance id starts with this; never empty. */
  prefix: string;
  /** The caller's own instance id: never reaped, even when it starts with `prefix`. */
  keep: string;
}

/** What `reapInstances` ended. */
export interface ReapReport {
  /** Registrations ended, sorted. */
  readonly instances: readonly string[];
  /** In-flight leases released (held by a reaped instance, or by one with the prefix that never registered). */
  readonly releasedLeases: number;
}

/**
 * The memory-commit ledger: per session a monotonic generation counter (one per completed turn),
 * the committed watermark, ownership segments (consecutive generations owned by one agent) and an
 * in-flight lease; plus a registry of live instances. The in-memory reference serves one process;
 * a shared implementation (Postgres) makes several processes agree.
 *
 * Every method may answer synchronously; implementations that do I/O return promises. All methods
 * are atomic with respect to each other for the same session, across every process that shares
 * the ledger.
 */
export interface CommitLedger {
  /**
   * Records one completed turn of `sessionId` owned by `owner` (or by nobody yet) and returns its
   * generation: 1 for a new session, then strictly increasing by 1, never reused, even after
   * everything is committed. Consecutive generations of the same owner may share a segment; a
   * generation marked while a commit is in flight stays uncommitted when that commit completes.
   */
  markTurnCompleted(sessionId: string, owner: SegmentOwner | null): MaybePromise<number>;

  /** True while some marked generation of `sessionId` is not committed. Unknown sessions: false. */
  hasUncommittedWork(sessionId: string): MaybePromise<boolean>;

  /** The generation counter of `sessionId`: how many turns were ever marked (0 for an unknown session). */
  generationOf(sessionId: string): MaybePromise<number>;

  /**
   * Tries to take the in-flight lease of `sessionId` for its earliest uncommitted segment. At most
   * one unexpired lease exists per session; an expired lease may be taken over. Never claims a
   * segment owned by another live instance. On `claimed`, the segment's generations are captured:
   * turns marked later are not part of this claim.
   */
  claimCommit(sessionId: string, props: ClaimCommitProps): MaybePromise<ClaimResult>;

  /**
   * Extends a held lease to `now + leaseMs`. False when the lease is no longer held by `claim`
   * (released, completed, or taken over after expiry).
   */
  renewCommit(claim: CommitClaim, leaseMs: number): MaybePromise<boolean>;

  /**
   * The claimed commit succeeded: compare-and-clear. Raises the committed watermark to
   * `claim.end` (never lowers it), drops only segments now fully committed (trimming a segment
   * that straddles it) and releases the lease. Generations marked after the claim stay
   * uncommitted. Does nothing and answers `lost` when the lease is no longer held by `claim`.
   */
  completeCommit(claim: CommitClaim): MaybePromise<CompleteResult>;

  /**
   * The claimed commit failed: releases the lease, keeping every segment and its owner (including
   * an owner adopted by the claim) so the same agent retries later. False when the lease was no
   * longer held by `claim` (nothing changed).
   */
  releaseCommit(claim: CommitClaim): MaybePromise<boolean>;

  /** Session ids with uncommitted work, filtered as {@link DirtySessionsProps} says. */
  dirtySessions(props?: DirtySessionsProps): MaybePromise<string[]>;

  /**
   * Registers `instanceId` as live until `now + ttlMs` (repeat before it lapses). Segments of an
   * instance whose registration lapsed, or that never registered, may be adopted by others.
   */
  heartbeat(instanceId: string, ttlMs: number): MaybePromise<void>;

  /** Ends `instanceId`'s registration now (clean shutdown): its dirty segments become adoptable. */
  retireInstance(instanceId: string): MaybePromise<void>;

  /**
   * Declares every instance whose id starts with `prefix` (except `keep`) dead now: its registration
   * ends and the in-flight leases it holds are released, so its dirty segments can be adopted at once
   * rather than when its liveness lapses, and commits it had in flight run again (at-least-once; a
   * late completion of a released lease answers `lost`). For a host that knows the process that last
   * ran under a name has died, e.g. a start after an unclean stop; never for a process that may live.
   */
  reapInstances(props: ReapInstancesProps): MaybePromise<ReapReport>;

  /**
   * Optional capability: resolves when the lease of `sessionId` is released, completed or expires,
   * or after `timeoutMs` at the latest, whichever is first (also immediately when no lease is
   * held). Never rejects. Ledgers without it are polled with backoff by waiters.
   */
  waitForRelease?(sessionId: string, timeoutMs: number): Promise<void>;
}
