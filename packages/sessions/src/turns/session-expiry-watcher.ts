import {
  type Clock,
  InvalidArgumentError,
  type RoutingEntry,
  type RoutingIndex,
  systemClock,
} from "@engram/core";
import type { SessionRouter } from "../routing/session-router.js";
import type { SessionRuntimeObserver } from "../runtime/runtime-observer.js";
import type { IdleSweepReport } from "./agent-turn-runner.js";
import type { SessionTurnHandler } from "./session-turn-handler.js";

export interface SessionExpiryWatcherProps {
  readonly routingIndex: RoutingIndex;
  readonly router: SessionRouter;
  readonly handler: SessionTurnHandler;
  /** Entries read per page while sweeping (default 500). */
  readonly pageSize?: number;
  /** The agent cache: idle agents are committed and dropped on every sweep. */
  readonly agents?: { sweepIdle(): Promise<IdleSweepReport> };
  /** Default: the system clock. Drives the prune cut-off and its hourly pace. */
  readonly clock?: Clock;
  /**
   * Routing entries last active more than this many days ago are dropped by a sweep (seed 004
   * `prune_old_entries`), at most once per {@link pruneIntervalMs}. 0 or absent: never.
   */
  readonly routeMaxAgeDays?: number;
  /** Least time between two prunes, in ms (default one hour). */
  readonly pruneIntervalMs?: number;
  readonly observer?: SessionRuntimeObserver;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** What one sweep did, per entry it looked at. */
export interface ExpirySweepReport {
  readonly finalized: readonly string[];
  /** Expired, but the commit failed; the work is kept and the next sweep retries. */
  readonly failed: readonly string[];
  /** Expired, but a turn was running or queued on the key; left for the next sweep. */
  readonly busy: readonly string[];
  /** Agents dropped for idleness (their work committed first). */
  readonly idleAgentsEvicted: readonly string[];
  /**
   * Sessions whose memory nobody here served (a crashed process's, or an agent's let go before its
   * commit) and that this sweep committed, or left uncommitted (a failure, or an agent took over).
   */
  readonly unattendedCommitted: readonly string[];
  readonly unattendedLeft: readonly string[];
  /** Routing entries pruned for age; `undefined` when this sweep did not prune. */
  readonly pruned: number | undefined;
}

/**
 * Commits the memory of sessions whose reset policy has expired, and drops idle agents, without waiting for the user's next
 * message (seed 004 expiry watcher). The route stays as it is (the next message still starts a new
 * session and reports the auto-reset); the entry is flagged `expiryFinalized` so it is finalised once.
 *
 * Every sweep also commits the memory the durable ledger holds for sessions no agent here serves:
 * what a crashed process left (ended sessions and abandoned ones alike: its agent's end is their
 * boundary), whichever process the sessions were routed by, and work an agent here was let go of
 * before a failed commit. Without this, such work waited for a boundary that might never come.
 *
 * At most once an hour a sweep also prunes routing entries inactive for longer than
 * `routeMaxAgeDays` (transcripts stay; the user's next message starts a new session). Suspended
 * entries stay, and so do keys with a turn running or queued here and expired entries whose memory
 * is not committed yet, so pruning never strands uncommitted work.
 */
export class SessionExpiryWatcher {
  readonly #props: SessionExpiryWatcherProps;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<ExpirySweepReport> | undefined;
  readonly #clock: Clock;
  readonly #pruneIntervalMs: number;
  #lastPruneAt: number | undefined;

  constructor(props: SessionExpiryWatcherProps) {
    const days = props.routeMaxAgeDays ?? 0;
    if (!(days >= 0) || !Number.isFinite(days)) {
      throw new InvalidArgumentError("routeMaxAgeDays", "must be a finite number >= 0");
    }
    this.#props = props;
    this.#clock = props.clock ?? systemClock;
    this.#pruneIntervalMs = props.pruneIntervalMs ?? HOUR_MS;
  }

  /** One pass over the routing index. Concurrent calls share the running pass. */
  sweep(): Promise<ExpirySweepReport> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Sweeps every `intervalMs` until {@link stop}; the timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping?.catch(() => undefined);
  }

  async #sweep(): Promise<ExpirySweepReport> {
    const { routingIndex, handler } = this.#props;
    const pageSize = this.#props.pageSize ?? 500;
    const report = {
      finalized: [] as string[],
      failed: [] as string[],
      busy: [] as string[],
      idleAgentsEvicted: [] as string[],
      unattendedCommitted: [] as string[],
      unattendedLeft: [] as string[],
      pruned: undefined as number | undefined,
    };
    const busy = new Set(handler.busyKeys());
    const expired: RoutingEntry[] = [];
    for (let offset = 0; ; offset += pageSize) {
      const page = await routingIndex.list({ limit: pageSize, offset });
      for (const entry of page) if (!entry.expiryFinalized && this.#isExpired(entry)) expired.push(entry);
      if (page.length < pageSize) break;
    }
    for (const entry of expired) {
      if (busy.has(entry.sessionKey)) {
        report.busy.push(entry.sessionKey);
        continue;
      }
      if (await handler.leaveSession(entry.sessionId)) {
        await routingIndex.patch(
          entry.sessionKey,
          { expiryFinalized: true, touch: false },
          { expectedSessionId: entry.sessionId },
        );
        this.#props.observer?.expiryFinalized?.();
        report.finalized.push(entry.sessionKey);
      } else {
        report.failed.push(entry.sessionKey);
      }
    }
    for (const sessionId of await handler.unattendedSessions()) {
      if (await handler.commitUnattended(sessionId)) report.unattendedCommitted.push(sessionId);
      else report.unattendedLeft.push(sessionId);
    }
    if (this.#props.agents) report.idleAgentsEvicted.push(...(await this.#props.agents.sweepIdle()).evicted);
    report.pruned = await this.#pruneIfDue([
      ...busy,
      ...handler.busyKeys(),
      ...report.failed,
      ...report.busy,
    ]);
    return report;
  }

  async #pruneIfDue(keepKeys: string[]): Promise<number | undefined> {
    const days = this.#props.routeMaxAgeDays ?? 0;
    if (days <= 0) return undefined;
    const now = this.#clock.now();
    if (this.#lastPruneAt !== undefined && now - this.#lastPruneAt < this.#pruneIntervalMs) return undefined;
    this.#lastPruneAt = now;
    const pruned = await this.#props.routingIndex.pruneOlderThan(now - days * DAY_MS, {
      keepKeys: [...new Set(keepKeys)],
    });
    this.#props.observer?.routesPruned?.(pruned);
    return pruned;
  }

  #isExpired(entry: RoutingEntry): boolean {
    if (!entry.origin) return false;
    try {
      return this.#props.router.isExpired(entry.origin, entry.updatedAt);
    } catch {
      // A stored origin that no longer builds a key (unsafe id) is left to the next message.
      return false;
    }
  }
}
