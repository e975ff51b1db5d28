import {
  type Clock,
  DEFAULT_RESUME_FRESHNESS_MS,
  isResumeFresh,
  type RoutingEntry,
  type RoutingIndex,
  type SessionSource,
  systemClock,
} from "@engram/core";
import type { SessionRouter } from "../routing/session-router.js";
import type { SessionRuntimeObserver } from "../runtime/runtime-observer.js";
import type { ContinuationOutcome, SessionTurnHandler } from "../turns/session-turn-handler.js";
import type { PreviousRun, RestartStateStore } from "./restart-state-store.js";

/** How long before an unclean start a key must have been active to count as interrupted (seed: 120 s). */
export const DEFAULT_RESTART_WINDOW_MS = 120_000;
/** Unclean starts in a row that find a key interrupted before it is suspended instead (seed: 3). */
export const DEFAULT_MAX_INTERRUPTED_RESTARTS = 3;
/** Continuation turns running at once after a start (each is a model call). */
export const DEFAULT_CONTINUATION_CONCURRENCY = 4;

/** The input of a continuation turn; persisted as a `system` message, never as user text. */
export const CONTINUATION_NOTE =
  "[System note: your previous turn in this conversation was interrupted by a gateway restart before " +
  "you could finish it. Continue from where you left off and answer the user's last message.]";

/** Where a continuation's reply goes: a host's platform adapter (it sends to the chat of `source`). */
export interface ReplySender {
  send(source: SessionSource, text: string): Promise<void>;
}

/** The part of a pino logger recovery writes to. */
export interface RecoveryLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface RestartRecoveryProps {
  /** This process's instance name: the clean-shutdown marker is kept per instance. */
  readonly instance: string;
  readonly state: RestartStateStore;
  readonly routingIndex: RoutingIndex;
  readonly router: SessionRouter;
  readonly handler: SessionTurnHandler;
  readonly clock?: Clock;
  /** See {@link DEFAULT_RESTART_WINDOW_MS}. */
  readonly restartWindowMs?: number;
  /** The router's auto-continue freshness window (default 1 h): staler keys are left to auto-reset. */
  readonly resumeFreshnessMs?: number;
  /** See {@link DEFAULT_MAX_INTERRUPTED_RESTARTS}. */
  readonly maxInterruptedRestarts?: number;
  /** See {@link DEFAULT_CONTINUATION_CONCURRENCY}. */
  readonly continuationConcurrency?: number;
  /**
   * The adapter of `platform` once the gateway's adapters are up; `undefined` when there is none (the
   * generic `/v1/messages` API): the continuation's reply then stays in the transcript.
   */
  readonly adapterFor?: (platform: string) => Promise<ReplySender | undefined>;
  readonly observer?: SessionRuntimeObserver;
  readonly logger?: RecoveryLogger;
  /**
   * Declares the memory-commit registrations of this instance's earlier runs dead, on an unclean
   * start: the run that left no clean-shutdown marker is gone (an instance name has one process at a
   * time), so the memory work it left uncommitted is adopted now rather than once its liveness lapses,
   * and its in-flight commit leases are released. Resolves the registrations it ended.
   */
  readonly reapPreviousRun?: () => Promise<{ readonly instances: readonly string[] }>;
  /**
   * Whether this host's sessions are routed by session key (a messaging gateway): only then are
   * interrupted keys marked, suspended and continued. A host that addresses sessions by id (the web)
   * keeps the marker and the reaping only. Default true.
   */
  readonly routed?: boolean;
}

/** One queued continuation's end: its outcome, or the error its turn failed with. */
export interface ContinuationResult {
  readonly sessionKey: string;
  readonly outcome?: ContinuationOutcome;
  readonly error?: unknown;
}

export interface RestoreReport {
  readonly previousRun: PreviousRun;
  /** Keys an unclean start marked resume-pending (`restart_interrupted`). */
  readonly marked: number;
  /** Keys suspended because their session was interrupted by too many restarts in a row. */
  readonly suspended: readonly string[];
  /** Keys whose continuation turn was queued. */
  readonly continuing: readonly string[];
  /** Memory-commit registrations of earlier runs this start declared dead (see `reapPreviousRun`). */
  readonly reapedCommitInstances: readonly string[];
  /** Settles once every queued continuation ended; never rejects. */
  readonly continuations: Promise<readonly ContinuationResult[]>;
}

/**
 * Restart safety of one gateway process (issue 5, seed 004 `suspend_recently_active` and the
 * `.restart_failure_counts` escalation):
 *
 * - `restore()` runs once, before the server takes requests. It consumes the instance's clean-shutdown
 *   marker. Without one (the last run was killed or its drain missed the deadline) recently active keys
 *   become resume-pending and each interrupted key's streak of unclean starts grows; at
 *   `maxInterruptedRestarts` the key is suspended instead (its next message starts a new session).
 *   Then every fresh resume-pending key gets a continuation turn queued on its lane, so messages that
 *   arrive later wait behind it.
 * - `recordCleanShutdown()` writes the marker; the gateway calls it only when its drain finished
 *   within the deadline.
 *
 * The streak ends when a turn on the key completes: a completed turn clears resume-pending, and a key
 * that was not still pending when the next unclean start came starts a new streak at 1.
 */
export class RestartRecovery {
  readonly #props: RestartRecoveryProps;
  readonly #clock: Clock;
  readonly #throttle: <T>(task: () => Promise<T>) => Promise<T>;
  #began = false;

  constructor(props: RestartRecoveryProps) {
    this.#props = props;
    this.#clock = props.clock ?? systemClock;
    this.#throttle = createLimiter(props.continuationConcurrency ?? DEFAULT_CONTINUATION_CONCURRENCY);
  }

  /** Whether `restore()` began this instance's run (only such a run may record a clean shutdown). */
  get began(): boolean {
    return this.#began;
  }

  async restore(): Promise<RestoreReport> {
    if (this.#began) throw new Error("restore() runs once per gateway process");
    const { state, routingIndex, observer, logger } = this.#props;
    const previousRun = await state.beginRun(this.#props.instance);
    this.#began = true;
    observer?.started?.(previousRun);
    let marked = 0;
    const suspended: string[] = [];
    let reapedCommitInstances: readonly string[] = [];
    if (previousRun === "unclean" && this.#props.reapPreviousRun) {
      // Before any turn or commit of this run: what the dead run owned is adoptable from the start.
      reapedCommitInstances = (await this.#props.reapPreviousRun()).instances;
    }
    const routed = this.#props.routed ?? true;
    if (previousRun === "unclean" && routed) {
      const before = new Set((await this.#pendingEntries()).map((entry) => entry.sessionKey));
      marked = await routingIndex.markRecentlyActiveResumable(
        this.#props.restartWindowMs ?? DEFAULT_RESTART_WINDOW_MS,
      );
      const interrupted = (await this.#pendingEntries()).filter((entry) => this.#isFresh(entry));
      const streaks = await state.countInterruptedRestarts(
        interrupted.map((entry) => ({
          sessionKey: entry.sessionKey,
          sessionId: entry.sessionId,
          wasPending: before.has(entry.sessionKey),
        })),
      );
      const limit = this.#props.maxInterruptedRestarts ?? DEFAULT_MAX_INTERRUPTED_RESTARTS;
      for (const entry of interrupted) {
        if ((streaks.get(entry.sessionKey) ?? 0) < limit) continue;
        // Stuck-loop escalation: `suspended` wins over resume-pending, so the next message starts over.
        await routingIndex.suspend(entry.sessionKey);
        await state.forget(entry.sessionKey);
        suspended.push(entry.sessionKey);
      }
      observer?.restartRestored?.(marked, suspended.length);
    }
    const candidates = (routed ? await this.#pendingEntries() : []).filter(
      (entry) =>
        entry.origin !== null &&
        this.#isFresh(entry) &&
        !this.#props.router.isExpired(entry.origin, entry.updatedAt),
    );
    const continuations = candidates.map((entry) => this.#continue(entry));
    const report = {
      previousRun,
      marked,
      suspended,
      continuing: candidates.map((entry) => entry.sessionKey),
      reapedCommitInstances,
      continuations: Promise.all(continuations),
    };
    logger?.info(
      {
        instance: this.#props.instance,
        previousRun,
        marked,
        suspended,
        reapedCommitInstances,
        continuing: candidates.map((entry) => ({
          sessionKey: entry.sessionKey,
          sessionId: entry.sessionId,
          resumeReason: entry.resumeReason,
        })),
      },
      "restart restore",
    );
    return report;
  }

  /** Writes the clean-shutdown marker of this run (no-op when `restore()` never began one). */
  async recordCleanShutdown(): Promise<boolean> {
    if (!this.#began) return false;
    await this.#props.state.recordCleanShutdown(this.#props.instance);
    return true;
  }

  async #continue(entry: RoutingEntry): Promise<ContinuationResult> {
    const { handler, state, observer, logger } = this.#props;
    const sessionKey = entry.sessionKey;
    try {
      const outcome = await handler.continueInterrupted(entry, {
        note: CONTINUATION_NOTE,
        deliver: (source, reply) => this.#deliver(source, reply),
        throttle: this.#throttle,
      });
      // A completed turn (or one that had completed before the stop) ends the key's streak.
      if (outcome.status === "continued" || outcome.reason === "nothing_to_continue") {
        await state.forget(sessionKey);
      }
      observer?.restartContinuation?.(
        outcome.status === "continued" ? "continued" : `skipped_${outcome.reason}`,
      );
      logger?.info({ sessionKey, sessionId: entry.sessionId, outcome }, "restart continuation");
      return { sessionKey, outcome };
    } catch (error) {
      // The key stays resume-pending: the next message resumes it; an unclean start counts it again.
      observer?.restartContinuation?.("failed");
      logger?.warn({ sessionKey, sessionId: entry.sessionId, err: error }, "restart continuation failed");
      return { sessionKey, error };
    }
  }

  async #deliver(source: SessionSource, reply: string): Promise<boolean> {
    const adapter = await this.#props.adapterFor?.(source.platform);
    if (!adapter) return false;
    try {
      await adapter.send(source, reply);
      return true;
    } catch (error) {
      this.#props.logger?.warn({ platform: source.platform, err: error }, "continuation reply not delivered");
      return false;
    }
  }

  #isFresh(entry: RoutingEntry): boolean {
    return isResumeFresh(
      entry.resumeMarkedAt ?? entry.updatedAt,
      this.#clock.now(),
      this.#props.resumeFreshnessMs ?? DEFAULT_RESUME_FRESHNESS_MS,
    );
  }

  async #pendingEntries(): Promise<RoutingEntry[]> {
    const out: RoutingEntry[] = [];
    const limit = 1000;
    for (let offset = 0; ; offset += limit) {
      const page = await this.#props.routingIndex.list({
        resumePending: true,
        suspended: false,
        limit,
        offset,
      });
      out.push(...page);
      if (page.length < limit) return out;
    }
  }
}

/** Runs at most `concurrency` of the wrapped tasks at once, the rest in arrival order. */
function createLimiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
