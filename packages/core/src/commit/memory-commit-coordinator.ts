import { type EngramError, InvalidArgumentError, isEngramError } from "../errors/engram-error.js";
import { type Clock, systemClock } from "../gateway/clock.js";
import { type Logger, noopLogger } from "../memory/logger.js";
import { CommitLedgerFailedError, MemoryCommitFailedError } from "./commit-errors.js";
import type {
  ClaimResult,
  CommitClaim,
  CommitLedger,
  CompleteResult,
  ReapReport,
  SegmentOwner,
} from "./commit-ledger.js";
import type { CommittableAgent } from "./committable-agent.js";
import { InMemoryCommitLedger } from "./in-memory-commit-ledger.js";
import { isPromise, type MaybePromise } from "./maybe-promise.js";

export interface MemoryCommitCoordinatorProps {
  /** Where generations, segments and leases live. Default: a fresh {@link InMemoryCommitLedger}. */
  ledger?: CommitLedger;
  /** This process's id in the ledger; unique per process start. Default: a random UUID. */
  instanceId?: string;
  /** Default: the system clock. */
  clock?: Clock;
  /** Where failed commits and lost leases are reported. Default: dropped. */
  logger?: Logger;
  /** In-flight lease length; renewed every third of it while an asynchronous commit runs. Default 30000. */
  leaseMs?: number;
  /** How long this instance counts as live after a heartbeat. Default 30000. */
  instanceTtlMs?: number;
  /** Heartbeat period. Default a third of `instanceTtlMs`. */
  heartbeatIntervalMs?: number;
  /** First and longest poll delay when waiting on a ledger without `waitForRelease`. Default 5 / 250. */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** Sessions `drainAll` commits at once. Default 16. */
  drainConcurrency?: number;
  /** `drainAll` deadline when none is passed. Default 30000. */
  drainDeadlineMs?: number;
  /**
   * Builds the agent that commits a session whose earliest uncommitted segment nobody can commit:
   * its owner died with its process (a crash), or it never had one. Called when a commit of the
   * session finds no owner and was given no agent; the agent becomes the segment's owner (kept here
   * for retries like any owner). Answer `undefined` for a session this host cannot serve (then the
   * commit answers `no_owner`). Without it such segments wait for a host that can.
   */
  adoptAgent?: (sessionId: string) => MaybePromise<CommittableAgent | undefined>;
  /**
   * A failed commit (the agent or `adoptAgent` threw) is retried after `minMs`, then after twice as
   * long each time up to `maxMs`, at most `attempts` times in a row; afterwards the work waits for the
   * session's next boundary, a sweep or a drain. A success ends the streak. Default 1000 / 60000 / 6;
   * `attempts: 0` turns retries off.
   */
  retry?: { minMs?: number; maxMs?: number; attempts?: number };
}

export interface MarkTurnProps {
  /** Becomes the session's current agent before the turn is recorded. */
  agent?: CommittableAgent | null | undefined;
}

export interface CommitSessionProps {
  /** Commits an ownerless earliest segment with this agent (and makes it that segment's owner). */
  agent?: CommittableAgent | null | undefined;
  /** Wait for an in-flight commit of the session to end instead of answering `false` at once. */
  wait?: boolean;
  /** Longest wait for an in-flight commit, in ms; implies `wait` unless `wait: false`. */
  timeoutMs?: number;
  /**
   * Commit segment after segment until the session is clean, as a session left for good needs (one
   * commit takes one ownership segment). The outcome is `committed` only when the session ended
   * clean; otherwise it is what stopped the loop (`failed`, `foreign_owner`, ...).
   */
  untilClean?: boolean;
}

/**
 * How one commit attempt ended. `committed`: the agent's commit succeeded (its segment is cleared
 * unless the lease was lost); `failed`: the agent threw or rejected (work and owner kept);
 * `clean`: nothing to commit; `in_flight`: another commit holds the session (no wait asked);
 * `timed_out`: it still held it when the wait ended; `no_owner`: no agent to commit the earliest
 * segment with; `foreign_owner`: another live process owns it; `missing_handle`: the owning agent
 * is not known to this coordinator (a bug or a reused instance id).
 */
export type CommitOutcome =
  | "committed"
  | "failed"
  | "clean"
  | "in_flight"
  | "timed_out"
  | "no_owner"
  | "foreign_owner"
  | "missing_handle";

export interface DrainProps {
  /** Return by this many ms from now, whatever is still running. Default: `drainDeadlineMs`. */
  deadlineMs?: number;
}

/**
 * Where a session stands at the end of a drain: `drained` (nothing uncommitted is left that this
 * instance could commit), `failed` (the last commit failed), `in_flight` (a commit was still
 * running or holding the session at the deadline), `no_owner` / `foreign_owner` / `missing_handle`
 * (see {@link CommitOutcome}), `error` (the ledger itself failed).
 */
export type DrainSessionStatus =
  | "drained"
  | "failed"
  | "in_flight"
  | "no_owner"
  | "foreign_owner"
  | "missing_handle"
  | "error";

export interface DrainSessionResult {
  sessionId: string;
  status: DrainSessionStatus;
  /** Successful commits during the drain. */
  commits: number;
  /** Failed commits during the drain. */
  failures: number;
  /** `MEMORY_COMMIT_FAILED` for `failed`, the ledger's error for `error`. */
  error?: EngramError;
}

export interface DrainReport {
  /** True when a final pass found nothing left that this instance could commit. */
  drained: boolean;
  /** True when the deadline cut the drain short. */
  deadlineExceeded: boolean;
  passes: number;
  durationMs: number;
  /** One result per session the drain touched. */
  sessions: DrainSessionResult[];
  /** Sessions not `drained`. */
  remaining: string[];
}

interface LocalSession {
  /** Agent that owns future generations. */
  current: CommittableAgent | undefined;
  currentOwner: SegmentOwner | null;
  /** Bumped whenever a handle may have become referenced by the ledger (mark, adoption). */
  epoch: number;
  /** True once `currentOwner` was handed to the ledger since the session was last seen clean. */
  currentUsed: boolean;
  /** Earlier agents that may still own dirty segments, by agent id. */
  retained: Map<string, CommittableAgent> | undefined;
  /** Ledger marks issued but not answered yet (asynchronous ledgers only). */
  pendingMarks: number;
  /** Commits this coordinator runs for the session right now. */
  running: number;
  /** Resolvers of local waiters, woken when a local commit ends. */
  waiters: Set<() => void> | undefined;
}

const MAX_TIMER_MS = 2_147_483_647;
/** Segments one `untilClean` commit takes at most (a guard against leases lost over and over). */
const MAX_SEGMENTS_PER_COMMIT = 64;

/** The retry streak of one session's failed commits. */
interface RetryState {
  /** Retries scheduled so far in this streak. */
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value))
    throw new InvalidArgumentError(name, "must be a finite number > 0");
  return value;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The memory-commit lifecycle of sessions (seed 000). Completed turns become numbered generations
 * owned by the agent that ran them; a commit runs the owning agent's `commitMemorySession()` for the
 * earliest uncommitted segment under an in-flight lease and then clears exactly the captured
 * generations. Guarantees:
 *
 * 1. only completed turns ({@link markTurnCompleted}) are committable;
 * 2. a commit finishing late never clears a generation marked while it ran;
 * 3. a failed commit keeps the generations and their owning agent, which is kept alive here (even
 *    after {@link unregisterAgent}) so the same agent retries;
 * 4. a replacement agent owns only generations marked after it was registered;
 * 5. commits of one session never overlap (across processes too, with a shared ledger).
 *
 * Methods answer synchronously when the ledger and the agent do; otherwise they return promises.
 * Callers can always `await` the result. Empty session ids are no-ops.
 */
export class MemoryCommitCoordinator {
  readonly instanceId: string;
  private readonly ledger: CommitLedger;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly leaseMs: number;
  private readonly instanceTtlMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;
  private readonly drainConcurrency: number;
  private readonly drainDeadlineMs: number;
  private readonly adoptAgent: MemoryCommitCoordinatorProps["adoptAgent"];
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly retryAttempts: number;
  private readonly retries = new Map<string, RetryState>();
  private readonly sessions = new Map<string, LocalSession>();
  private readonly lastFailure = new Map<string, unknown>();
  private agentSeq = 0;
  private started = false;
  private closed = false;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(props: MemoryCommitCoordinatorProps = {}) {
    this.ledger = props.ledger ?? new InMemoryCommitLedger({ clock: props.clock ?? systemClock });
    this.instanceId = props.instanceId ?? globalThis.crypto.randomUUID();
    if (!this.instanceId) throw new InvalidArgumentError("instanceId", "must be a non-empty string");
    this.clock = props.clock ?? systemClock;
    this.logger = props.logger ?? noopLogger;
    this.leaseMs = positive("leaseMs", props.leaseMs, 30_000);
    this.instanceTtlMs = positive("instanceTtlMs", props.instanceTtlMs, 30_000);
    this.heartbeatIntervalMs = positive(
      "heartbeatIntervalMs",
      props.heartbeatIntervalMs,
      this.instanceTtlMs / 3,
    );
    this.pollMinMs = positive("pollMinMs", props.pollMinMs, 5);
    this.pollMaxMs = positive("pollMaxMs", props.pollMaxMs, 250);
    this.drainConcurrency = Math.floor(positive("drainConcurrency", props.drainConcurrency, 16)) || 1;
    this.drainDeadlineMs = positive("drainDeadlineMs", props.drainDeadlineMs, 30_000);
    this.adoptAgent = props.adoptAgent;
    this.retryMinMs = positive("retry.minMs", props.retry?.minMs, 1_000);
    this.retryMaxMs = Math.max(this.retryMinMs, positive("retry.maxMs", props.retry?.maxMs, 60_000));
    const attempts = props.retry?.attempts ?? 6;
    if (!(attempts >= 0) || !Number.isFinite(attempts))
      throw new InvalidArgumentError("retry.attempts", "must be a finite number >= 0");
    this.retryAttempts = Math.floor(attempts);
  }

  /**
   * Makes `agent` the owner of the session's future generations. Generations marked earlier keep
   * their owner, so a rebuilt agent can never take over (and lose) an older agent's failed work.
   */
  registerAgent(sessionId: string, agent: CommittableAgent): void {
    if (!sessionId || !agent) return;
    this.adoptCurrent(sessionId, this.sessions.get(sessionId), agent);
  }

  /**
   * Forgets the session's current agent for future generations. Agents owning dirty generations
   * stay referenced here until those generations are committed, so failed work stays retryable.
   */
  unregisterAgent(sessionId: string): void {
    if (!sessionId) return;
    const local = this.sessions.get(sessionId);
    if (local === undefined || local.current === undefined) return;
    this.retireCurrent(local);
    this.forgetIfIdle(sessionId, local);
  }

  /**
   * Records a completed turn of `sessionId` (call it after the turn is saved, never for a partial or
   * ephemeral one), owned by `agent` if given (which becomes current) or by the current agent.
   * Returns the turn's generation (0 for an empty id).
   */
  markTurnCompleted(sessionId: string, props?: MarkTurnProps): MaybePromise<number> {
    if (!sessionId) return 0;
    let local = this.sessions.get(sessionId);
    const agent = props?.agent;
    if (agent) local = this.adoptCurrent(sessionId, local, agent);
    let owner: SegmentOwner | null = null;
    if (local !== undefined && local.currentOwner !== null) {
      owner = local.currentOwner;
      local.currentUsed = true;
      local.epoch++;
    }
    let generation: MaybePromise<number>;
    if (!this.started) {
      const live = this.start();
      generation =
        live === undefined
          ? this.ledger.markTurnCompleted(sessionId, owner)
          : live.then(() => this.ledger.markTurnCompleted(sessionId, owner));
    } else {
      generation = this.ledger.markTurnCompleted(sessionId, owner);
    }
    if (local === undefined || owner === null || !isPromise(generation)) return generation;
    // Until the ledger has applied this mark, a concurrent "clean" answer may predate it: keep
    // every handle (see sawClean).
    const marking = local;
    marking.pendingMarks++;
    return generation.then(
      (value) => {
        marking.pendingMarks--;
        return value;
      },
      (error: unknown) => {
        marking.pendingMarks--;
        throw error;
      },
    );
  }

  /** True while some completed turn of the session is not committed (false for an empty id). */
  hasUncommittedWork(sessionId: string): MaybePromise<boolean> {
    if (!sessionId) return false;
    return this.ledger.hasUncommittedWork(sessionId);
  }

  /** How many turns of the session were ever marked (0 for an empty or unknown id). */
  generationOf(sessionId: string): MaybePromise<number> {
    if (!sessionId) return 0;
    return this.ledger.generationOf(sessionId);
  }

  /** True while an agent is registered here for the session's future generations (it is being served). */
  hasCurrentAgent(sessionId: string): boolean {
    return this.sessions.get(sessionId)?.current !== undefined;
  }

  /**
   * Sessions with uncommitted work that this instance could commit but serves with no agent: work
   * orphaned by a dead process, ownerless work, and work whose agent here was let go before it was
   * committed. What a periodic sweep commits, so no such work waits for a boundary that may never
   * come. Sessions served here are left to their own boundaries.
   */
  async unattendedSessions(): Promise<string[]> {
    const dirty = await this.ledger.dirtySessions({ committableBy: this.instanceId });
    return dirty.filter((sessionId) => !this.hasCurrentAgent(sessionId));
  }

  /**
   * Declares the instances whose id starts with `prefix` dead, except this one (see
   * {@link CommitLedger.reapInstances}): their dirty segments become adoptable now. For a host that
   * names its instance ids `<prefix><unique>` and knows the previous process under that name died.
   */
  async reapInstances(prefix: string): Promise<ReapReport> {
    if (!prefix) throw new InvalidArgumentError("prefix", "must be a non-empty string");
    const report = await this.ledger.reapInstances({ prefix, keep: this.instanceId });
    if (report.instances.length > 0 || report.releasedLeases > 0) {
      this.logger.info(
        { prefix, instances: report.instances, releasedLeases: report.releasedLeases },
        "memory commit: earlier processes declared dead; their uncommitted work is adoptable now",
      );
    }
    return report;
  }

  /**
   * Commits the earliest uncommitted segment of the session with the agent that owns it (an
   * ownerless segment takes `props.agent` or the current agent). True when the agent's commit
   * succeeded. While another commit of the session is in flight the answer is `false` at once,
   * unless `wait`/`timeoutMs` ask to wait for it (then the earliest remaining segment is committed).
   * An agent failure answers `false`; a ledger failure rejects.
   */
  commitSessionMemory(sessionId: string, props?: CommitSessionProps): MaybePromise<boolean> {
    const outcome = this.tryCommitSession(sessionId, props);
    return isPromise(outcome) ? outcome.then(isCommitted) : outcome === "committed";
  }

  /** {@link commitSessionMemory} with the reason: see {@link CommitOutcome}. */
  tryCommitSession(sessionId: string, props?: CommitSessionProps): MaybePromise<CommitOutcome> {
    if (!sessionId) return "clean";
    let deadline = 0;
    if (props !== undefined) {
      const { wait, timeoutMs } = props;
      if (timeoutMs !== undefined && Number.isNaN(timeoutMs))
        throw new InvalidArgumentError("timeoutMs", "must be a number");
      if (wait === true || (wait === undefined && timeoutMs !== undefined)) {
        deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + timeoutMs;
      }
    }
    if (props?.untilClean === true)
      return this.commitUntilClean(sessionId, props.agent ?? undefined, deadline);
    return this.commitOnce(sessionId, props?.agent ?? undefined, deadline);
  }

  private async commitUntilClean(
    sessionId: string,
    agent: CommittableAgent | undefined,
    deadline: number,
  ): Promise<CommitOutcome> {
    let committed = false;
    for (let segment = 0; segment < MAX_SEGMENTS_PER_COMMIT; segment++) {
      const outcome = await this.commitOnce(sessionId, agent, deadline);
      if (outcome === "clean") return committed ? "committed" : "clean";
      if (outcome !== "committed") return outcome;
      committed = true;
    }
    return (await this.ledger.hasUncommittedWork(sessionId)) ? "in_flight" : "committed";
  }

  /**
   * Commits everything this instance can, pass after pass, until a pass commits nothing: each
   * dirty session is committed segment by segment, waiting for in-flight commits. Returns at the
   * deadline at the latest, even when an agent's commit never ends, reporting per session what is
   * left. Never throws for a session's failure: it is in the report.
   */
  async drainAll(props: DrainProps = {}): Promise<DrainReport> {
    const startedAt = this.clock.now();
    const deadline = startedAt + (props.deadlineMs ?? this.drainDeadlineMs);
    const results = new Map<string, DrainSessionResult>();
    let passes = 0;
    let drained = false;
    let deadlineExceeded = false;
    let stopped = false;

    const live = this.started ? undefined : this.start();
    if (live !== undefined) await live;

    const worker = async (sessionId: string, progress: { made: boolean }): Promise<void> => {
      let result = results.get(sessionId);
      if (result === undefined) {
        result = { sessionId, status: "in_flight", commits: 0, failures: 0 };
        results.set(sessionId, result);
      }
      for (;;) {
        if (stopped) return;
        result.status = "in_flight";
        let outcome: CommitOutcome;
        try {
          outcome = await this.commitOnce(sessionId, undefined, deadline);
        } catch (error) {
          result.status = "error";
          result.error = asStoreError(error);
          return;
        }
        if (stopped) return;
        switch (outcome) {
          case "committed":
            result.commits++;
            progress.made = true;
            delete result.error;
            continue;
          case "failed":
            result.failures++;
            result.status = "failed";
            result.error = new MemoryCommitFailedError(sessionId, this.lastFailure.get(sessionId));
            return;
          case "clean":
            result.status = "drained";
            delete result.error;
            return;
          case "timed_out":
          case "in_flight":
            result.status = "in_flight";
            return;
          default:
            result.status = outcome;
            return;
        }
      }
    };

    for (;;) {
      if (this.clock.now() >= deadline) {
        deadlineExceeded = true;
        break;
      }
      const dirty = await raceDeadline(
        Promise.resolve(this.ledger.dirtySessions({ committableBy: this.instanceId })),
        deadline - this.clock.now(),
      );
      if (dirty === TIMED_OUT) {
        deadlineExceeded = true;
        break;
      }
      if (dirty.length === 0) {
        drained = true;
        break;
      }
      passes++;
      const progress = { made: false };
      const pass = runLimited(dirty, this.drainConcurrency, (sessionId) => worker(sessionId, progress));
      const settled = await raceDeadline(pass, deadline - this.clock.now());
      if (settled === TIMED_OUT) {
        deadlineExceeded = true;
        break;
      }
      if (!progress.made) break;
    }
    stopped = true;
    if (drained) {
      // Sessions another process owned (or nobody could commit) may have been committed since.
      const unsettled = [...results.values()].filter(
        (r) => r.status === "foreign_owner" || r.status === "no_owner" || r.status === "missing_handle",
      );
      const checked = await raceDeadline(
        Promise.all(
          unsettled.map((r) =>
            Promise.resolve()
              .then(() => this.ledger.hasUncommittedWork(r.sessionId))
              .catch(() => true),
          ),
        ),
        deadline - this.clock.now(),
      );
      if (checked !== TIMED_OUT) {
        unsettled.forEach((r, i) => {
          if (!checked[i]) r.status = "drained";
        });
      }
      // The final pass found nothing this instance could commit: whatever was pending or failing
      // earlier got committed since (by a waiter, a retry or another process).
      for (const result of results.values()) {
        if (result.status === "in_flight" || result.status === "failed") {
          result.status = "drained";
          delete result.error;
        }
      }
    }
    const sessions = [...results.values()];
    return {
      drained,
      deadlineExceeded,
      passes,
      durationMs: this.clock.now() - startedAt,
      sessions,
      remaining: sessions.filter((s) => s.status !== "drained").map((s) => s.sessionId),
    };
  }

  /**
   * Stops the heartbeat and retires this instance in the ledger, so another process may adopt its
   * dirty generations at once. Call it after {@link drainAll} on shutdown.
   */
  close(): MaybePromise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    return this.ledger.retireInstance(this.instanceId);
  }

  // --- agents and handles -------------------------------------------------------------------

  private adoptCurrent(
    sessionId: string,
    local: LocalSession | undefined,
    agent: CommittableAgent,
  ): LocalSession {
    if (local === undefined) {
      local = this.newLocal(sessionId);
    } else if (local.current === agent) {
      return local;
    } else if (local.current !== undefined) {
      if (!local.currentUsed && local.currentOwner !== null) {
        // The outgoing agent's id is referenced nowhere in the ledger: hand it to the newcomer.
        local.current = agent;
        return local;
      }
      this.retireCurrent(local);
    }
    local.current = agent;
    local.currentOwner = { instanceId: this.instanceId, agentId: this.nextAgentId() };
    local.currentUsed = false;
    return local;
  }

  private newLocal(sessionId: string): LocalSession {
    const local: LocalSession = {
      current: undefined,
      currentOwner: null,
      epoch: 0,
      currentUsed: false,
      retained: undefined,
      pendingMarks: 0,
      running: 0,
      waiters: undefined,
    };
    this.sessions.set(sessionId, local);
    return local;
  }

  /** Moves the current agent aside, keeping its handle if the ledger may reference it. */
  private retireCurrent(local: LocalSession): void {
    if (local.currentUsed && local.current !== undefined && local.currentOwner !== null) {
      if (local.retained === undefined) local.retained = new Map();
      local.retained.set(local.currentOwner.agentId, local.current);
      local.epoch++;
    }
    local.current = undefined;
    local.currentOwner = null;
    local.currentUsed = false;
  }

  private nextAgentId(): string {
    return `a${++this.agentSeq}`;
  }

  private handleFor(local: LocalSession | undefined, agentId: string): CommittableAgent | undefined {
    if (local === undefined) return undefined;
    if (local.currentOwner !== null && local.currentOwner.agentId === agentId) return local.current;
    return local.retained?.get(agentId);
  }

  /**
   * The epoch a "clean" answer to a ledger call sent now may prune handles at, or -1 (never) when a
   * mark is still unanswered: with a pool, that mark may be applied after this call, yet answered
   * before it.
   */
  private cleanEpoch(local: LocalSession | undefined): number {
    if (local === undefined) return 0;
    return local.pendingMarks === 0 ? local.epoch : -1;
  }

  /** The ledger said the session was clean as of `epoch`: no handle is referenced any more. */
  private sawClean(sessionId: string, local: LocalSession, epoch: number): void {
    if (local.epoch !== epoch || local.pendingMarks > 0) return;
    local.retained = undefined;
    local.currentUsed = false;
    this.forgetIfIdle(sessionId, local);
  }

  private forgetIfIdle(sessionId: string, local: LocalSession): void {
    if (
      local.current === undefined &&
      local.retained === undefined &&
      local.running === 0 &&
      local.pendingMarks === 0 &&
      !local.waiters?.size
    ) {
      if (this.sessions.get(sessionId) === local) this.sessions.delete(sessionId);
    }
  }

  // --- commits --------------------------------------------------------------------------------

  private commitOnce(
    sessionId: string,
    agent: CommittableAgent | undefined,
    deadline: number,
  ): MaybePromise<CommitOutcome> {
    let local = this.sessions.get(sessionId);
    let fallback: SegmentOwner | null = null;
    if (agent !== undefined && local?.current !== agent) {
      // A one-off agent for an ownerless segment (it does not become current): keep its handle in
      // case the ledger adopts it as the segment's owner.
      if (local === undefined) local = this.newLocal(sessionId);
      fallback = { instanceId: this.instanceId, agentId: this.nextAgentId() };
      if (local.retained === undefined) local.retained = new Map();
      local.retained.set(fallback.agentId, agent);
    }
    if (fallback === null && local !== undefined && local.currentOwner !== null) {
      fallback = local.currentOwner;
      local.currentUsed = true;
    }
    if (local !== undefined) local.epoch++;
    const epoch = this.cleanEpoch(local);
    if (!this.started) {
      const live = this.start();
      if (live !== undefined) {
        const owner = fallback;
        return live.then(() => this.claim(sessionId, owner, agent, deadline, epoch));
      }
    }
    return this.claim(sessionId, fallback, agent, deadline, epoch);
  }

  private claim(
    sessionId: string,
    fallbackOwner: SegmentOwner | null,
    agent: CommittableAgent | undefined,
    deadline: number,
    epoch: number,
  ): MaybePromise<CommitOutcome> {
    const result = this.ledger.claimCommit(sessionId, {
      instanceId: this.instanceId,
      fallbackOwner,
      leaseMs: this.leaseMs,
    });
    if (isPromise(result)) return result.then((r) => this.onClaim(sessionId, r, agent, deadline, epoch));
    return this.onClaim(sessionId, result, agent, deadline, epoch);
  }

  private onClaim(
    sessionId: string,
    result: ClaimResult,
    agent: CommittableAgent | undefined,
    deadline: number,
    epoch: number,
  ): MaybePromise<CommitOutcome> {
    switch (result.status) {
      case "claimed":
        return this.run(sessionId, result);
      case "in_flight":
        if (deadline > this.clock.now()) return this.waitThenRetry(sessionId, agent, deadline);
        return deadline === 0 ? "in_flight" : "timed_out";
      case "clean": {
        const local = this.sessions.get(sessionId);
        if (local !== undefined) this.sawClean(sessionId, local, epoch);
        this.endRetries(sessionId);
        return "clean";
      }
      case "no_owner":
        // `agent` was given: it would have been the fallback owner, so no_owner cannot come back.
        if (agent === undefined && this.adoptAgent !== undefined) return this.adopt(sessionId, deadline);
        return "no_owner";
      default:
        return result.status;
    }
  }

  /** The earliest segment has no owner alive: build one for it, then claim again with it. */
  private async adopt(sessionId: string, deadline: number): Promise<CommitOutcome> {
    let agent: CommittableAgent | undefined;
    try {
      agent = (await this.adoptAgent?.(sessionId)) ?? undefined;
    } catch (error) {
      this.lastFailure.set(sessionId, error);
      this.logger.error(
        { sessionId, err: error },
        "memory commit: building an agent to adopt the session's orphaned work failed; it stays uncommitted",
      );
      this.scheduleRetry(sessionId);
      return "failed";
    }
    if (agent === undefined) {
      this.logger.warn(
        { sessionId },
        "memory commit: the session's uncommitted work has no live owner and no agent here can adopt it",
      );
      return "no_owner";
    }
    return this.commitOnce(sessionId, agent, deadline);
  }

  private run(sessionId: string, claim: CommitClaim): MaybePromise<CommitOutcome> {
    const local = this.sessions.get(sessionId);
    const agent = this.handleFor(local, claim.owner.agentId);
    if (local === undefined || agent === undefined) {
      this.logger.error(
        { sessionId, owner: claim.owner, start: claim.start, end: claim.end },
        "memory commit: no local handle for the segment owner; releasing the claim",
      );
      const released = this.ledger.releaseCommit(claim);
      return isPromise(released) ? released.then(() => "missing_handle") : "missing_handle";
    }
    local.running++;
    let pending: Promise<void> | void;
    try {
      pending = agent.commitMemorySession();
    } catch (error) {
      return this.afterFailure(sessionId, local, claim, error);
    }
    if (isPromise(pending)) return this.awaitAgent(sessionId, local, claim, pending);
    return this.afterSuccess(sessionId, local, claim);
  }

  private async awaitAgent(
    sessionId: string,
    local: LocalSession,
    claim: CommitClaim,
    pending: Promise<void>,
  ): Promise<CommitOutcome> {
    // Keep the lease while the agent works, so no other process takes a slow commit for a dead one.
    const renew = setInterval(
      () => {
        void Promise.resolve()
          .then(() => this.ledger.renewCommit(claim, this.leaseMs))
          .then(
            (held) => {
              if (!held)
                this.logger.warn({ sessionId }, "memory commit: lease lost while the agent was committing");
            },
            (error: unknown) =>
              this.logger.warn({ sessionId, err: error }, "memory commit: lease renewal failed"),
          );
      },
      Math.max(1, this.leaseMs / 3),
    );
    renew.unref?.();
    try {
      await pending;
    } catch (error) {
      clearInterval(renew);
      return this.afterFailure(sessionId, local, claim, error);
    }
    clearInterval(renew);
    return this.afterSuccess(sessionId, local, claim);
  }

  private afterSuccess(
    sessionId: string,
    local: LocalSession,
    claim: CommitClaim,
  ): MaybePromise<CommitOutcome> {
    if (this.lastFailure.size > 0) this.lastFailure.delete(sessionId);
    this.endRetries(sessionId);
    const epoch = this.cleanEpoch(local);
    let completed: MaybePromise<CompleteResult>;
    try {
      completed = this.ledger.completeCommit(claim);
    } catch (error) {
      this.finish(sessionId, local);
      throw error;
    }
    if (isPromise(completed)) {
      return completed.then(
        (result) => this.completed(sessionId, local, result, epoch),
        (error: unknown) => {
          this.finish(sessionId, local);
          throw error;
        },
      );
    }
    return this.completed(sessionId, local, completed, epoch);
  }

  private completed(
    sessionId: string,
    local: LocalSession,
    result: CompleteResult,
    epoch: number,
  ): CommitOutcome {
    local.running--;
    if (result === "clean") this.sawClean(sessionId, local, epoch);
    else if (result === "lost") {
      this.logger.warn(
        { sessionId },
        "memory commit: the lease was taken over before completion; nothing cleared",
      );
    }
    this.wake(sessionId, local);
    return "committed";
  }

  private afterFailure(
    sessionId: string,
    local: LocalSession,
    claim: CommitClaim,
    error: unknown,
  ): MaybePromise<CommitOutcome> {
    this.lastFailure.set(sessionId, error);
    this.logger.error(
      { sessionId, start: claim.start, end: claim.end, owner: claim.owner, err: error },
      "memory commit failed; generations stay uncommitted",
    );
    this.scheduleRetry(sessionId);
    let released: MaybePromise<boolean>;
    try {
      released = this.ledger.releaseCommit(claim);
    } catch (releaseError) {
      this.finish(sessionId, local);
      throw releaseError;
    }
    if (isPromise(released)) {
      return released.then(
        () => {
          this.finish(sessionId, local);
          return "failed" as const;
        },
        (releaseError: unknown) => {
          this.finish(sessionId, local);
          throw releaseError;
        },
      );
    }
    this.finish(sessionId, local);
    return "failed";
  }

  private finish(sessionId: string, local: LocalSession): void {
    local.running--;
    this.wake(sessionId, local);
  }

  private wake(sessionId: string, local: LocalSession): void {
    const waiters = local.waiters;
    if (waiters !== undefined && waiters.size > 0) {
      local.waiters = undefined;
      for (const wake of waiters) wake();
    }
    this.forgetIfIdle(sessionId, local);
  }

  private async waitThenRetry(
    sessionId: string,
    agent: CommittableAgent | undefined,
    deadline: number,
  ): Promise<CommitOutcome> {
    let backoff = this.pollMinMs;
    for (;;) {
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) return "timed_out";
      await this.waitForRelease(sessionId, remaining, backoff);
      backoff = Math.min(backoff * 2, this.pollMaxMs);
      const outcome = await this.commitOnce(sessionId, agent, 0);
      if (outcome !== "in_flight") return outcome;
    }
  }

  /** Resolves when the session's lease may have been released, or after `remaining` ms. */
  private waitForRelease(sessionId: string, remaining: number, backoff: number): Promise<void> {
    if (this.ledger.waitForRelease !== undefined) return this.ledger.waitForRelease(sessionId, remaining);
    const local = this.sessions.get(sessionId);
    if (local !== undefined && local.running > 0) {
      // Our own commit holds the session: its end is a local event, no polling needed.
      return new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          local.waiters?.delete(done);
          resolve();
        };
        if (local.waiters === undefined) local.waiters = new Set();
        local.waiters.add(done);
        if (remaining <= MAX_TIMER_MS) timer = setTimeout(done, remaining);
      });
    }
    return delay(Math.min(backoff, remaining));
  }

  // --- retries --------------------------------------------------------------------------------

  /**
   * A commit of the session failed: try again later with backoff, unless a retry is already pending
   * or the streak is used up (then the next boundary, sweep or drain commits it).
   */
  private scheduleRetry(sessionId: string): void {
    if (this.closed || this.retryAttempts === 0) return;
    let retry = this.retries.get(sessionId);
    if (retry === undefined) {
      retry = { attempts: 0, timer: undefined };
      this.retries.set(sessionId, retry);
    }
    if (retry.timer !== undefined) return;
    if (retry.attempts >= this.retryAttempts) {
      if (retry.attempts === this.retryAttempts) {
        retry.attempts++;
        this.logger.warn(
          { sessionId, attempts: this.retryAttempts },
          "memory commit: retries used up; the work stays uncommitted until the session's next boundary, a sweep or a drain",
        );
      }
      return;
    }
    const delayMs = Math.min(this.retryMinMs * 2 ** retry.attempts, this.retryMaxMs);
    retry.attempts++;
    const state = retry;
    this.logger.info({ sessionId, attempt: retry.attempts, delayMs }, "memory commit: retry scheduled");
    state.timer = setTimeout(() => {
      state.timer = undefined;
      if (this.closed) return;
      void Promise.resolve()
        .then(() => this.commitOnce(sessionId, undefined, 0))
        .catch((error: unknown) => {
          this.logger.warn({ sessionId, err: error }, "memory commit: retry failed in the ledger");
          this.scheduleRetry(sessionId);
        });
    }, delayMs);
    state.timer.unref?.();
  }

  /** The session committed (or was found clean): its failure streak is over. */
  private endRetries(sessionId: string): void {
    if (this.retries.size === 0) return;
    const retry = this.retries.get(sessionId);
    if (retry === undefined) return;
    clearTimeout(retry.timer);
    this.retries.delete(sessionId);
  }

  // --- liveness -------------------------------------------------------------------------------

  /** First use: register this instance as live and keep it so. Undefined when already done synchronously. */
  private start(): Promise<void> | undefined {
    this.started = true;
    if (!this.closed) {
      this.heartbeatTimer = setInterval(() => {
        void Promise.resolve()
          .then(() => this.ledger.heartbeat(this.instanceId, this.instanceTtlMs))
          .catch((error: unknown) => this.logger.warn({ error }, "memory commit: instance heartbeat failed"));
      }, this.heartbeatIntervalMs);
      this.heartbeatTimer.unref?.();
    }
    const beat = this.ledger.heartbeat(this.instanceId, this.instanceTtlMs);
    return isPromise(beat) ? beat : undefined;
  }
}

function isCommitted(outcome: CommitOutcome): boolean {
  return outcome === "committed";
}

function asStoreError(error: unknown): EngramError {
  return isEngramError(error) ? error : new CommitLedgerFailedError(error);
}

const TIMED_OUT: unique symbol = Symbol("timed out");

/** Settles with `promise`'s value, or with {@link TIMED_OUT} after `ms` (which may be Infinity). */
function raceDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (ms <= 0) return Promise.resolve(TIMED_OUT);
  if (ms > MAX_TIMER_MS) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function runLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
