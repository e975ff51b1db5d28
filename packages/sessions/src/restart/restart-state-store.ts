/** How the previous run of a gateway instance ended, as its next start finds it. */
export type PreviousRun =
  /** The instance never ran on this database: nothing to restore. */
  | "first_start"
  /** The last run recorded the clean-shutdown marker (its drain finished within the deadline). */
  | "clean"
  /** The last run was killed, crashed, or its drain missed the deadline. */
  | "unclean";

/** A key found interrupted (resume-pending) by an unclean start. */
export interface InterruptedKey {
  readonly sessionKey: string;
  readonly sessionId: string;
  /**
   * The key was already resume-pending before this start marked anything: no turn completed on it
   * since the previous start, so the streak of interrupted restarts goes on.
   */
  readonly wasPending: boolean;
}

/**
 * The gateway's durable restart state: the clean-shutdown marker per instance and the stuck-loop
 * counter per session key. Guarantees an implementer must keep:
 * - `beginRun` reads and consumes the marker atomically: of two starts of one instance, at most one
 *   sees `clean`, and a run that never calls `recordCleanShutdown` leaves the next start `unclean`.
 * - `countInterruptedRestarts` is one atomic step: a key's streak grows only while it stays on the
 *   same session and `wasPending`; otherwise it restarts at 1. Keys left out lose their streak.
 */
export interface RestartStateStore {
  beginRun(instance: string): Promise<PreviousRun>;
  /** Records the clean-shutdown marker of the instance's current run. */
  recordCleanShutdown(instance: string): Promise<void>;
  /** Counts one more interrupted restart for each key; returns the streak length per session key. */
  countInterruptedRestarts(keys: readonly InterruptedKey[]): Promise<Map<string, number>>;
  /** Ends the streak of `sessionKey` (it was suspended, or a turn on it completed). */
  forget(sessionKey: string): Promise<void>;
}
