/** How an inbound message ended, as the turn pipeline counts it. */
export type TurnOutcome = "completed" | "duplicate" | "stopped" | "failed";

/**
 * What the session runtime reports as it works, for a host's metrics (the gateway maps each call to a
 * Prometheus series). Every method is optional and must not throw: the runtime calls them inline.
 */
export interface SessionRuntimeObserver {
  /** One inbound message (or command) ended. */
  turn?(outcome: TurnOutcome): void;
  /** A key left its session for a new one: `idle`, `daily`, `suspended`, `explicit`, ... */
  reset?(reason: string): void;
  /** A boundary, sweep or drain commit ended: its memory is clean (`ok`) or still dirty (`failed`). */
  commit?(result: "ok" | "failed"): void;
  /** Turns queued or running over all keys, after it changed. */
  queueDepth?(depth: number): void;
  /** Sessions with a live agent, after a turn. */
  cachedAgents?(count: number): void;
  /** The expiry sweep committed and finalised one expired session. */
  expiryFinalized?(): void;
  /** The expiry sweep pruned this many old routing entries. */
  routesPruned?(count: number): void;
  /** A start found the previous run `first_start`, `clean` or `unclean`. */
  started?(previousRun: string): void;
  /** An unclean start marked this many keys resume-pending and suspended this many. */
  restartRestored?(marked: number, suspended: number): void;
  /** A restart continuation ended: `continued`, `skipped_<reason>` or `failed`. */
  restartContinuation?(result: string): void;
}
