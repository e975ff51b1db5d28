import type { RoutingEntry, RoutingIndex } from "@engram/core";
import type { SessionRouter } from "../routing/session-router.js";
import type { IdleSweepReport } from "./agent-turn-runner.js";
import type { GatewayTurnHandler } from "./gateway-turn-handler.js";

export interface SessionExpiryWatcherProps {
  readonly routingIndex: RoutingIndex;
  readonly router: SessionRouter;
  readonly handler: GatewayTurnHandler;
  /** Entries read per page while sweeping (default 500). */
  readonly pageSize?: number;
  /** The agent cache: idle agents are committed and dropped on every sweep. */
  readonly agents?: { sweepIdle(): Promise<IdleSweepReport> };
}

/** What one sweep did, per entry it looked at. */
export interface ExpirySweepReport {
  readonly finalized: readonly string[];
  /** Expired, but the commit failed; the work is kept and the next sweep retries. */
  readonly failed: readonly string[];
  /** Expired, but a turn was running or queued on the key; left for the next sweep. */
  readonly busy: readonly string[];
  /** Agents dropped for idleness (their work committed first). */
  readonly idleAgentsEvicted: readonly string[];
}

/**
 * Commits the memory of sessions whose reset policy has expired, and drops idle agents, without waiting for the user's next
 * message (seed 004 expiry watcher). The route stays as it is (the next message still starts a new
 * session and reports the auto-reset); the entry is flagged `expiryFinalized` so it is finalised once.
 */
export class SessionExpiryWatcher {
  readonly #props: SessionExpiryWatcherProps;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<ExpirySweepReport> | undefined;

  constructor(props: SessionExpiryWatcherProps) {
    this.#props = props;
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
        report.finalized.push(entry.sessionKey);
      } else {
        report.failed.push(entry.sessionKey);
      }
    }
    if (this.#props.agents) report.idleAgentsEvicted.push(...(await this.#props.agents.sweepIdle()).evicted);
    return report;
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
