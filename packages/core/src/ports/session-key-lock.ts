/**
 * Mutual exclusion per session key, for hosts that run turns of one key in several processes.
 *
 * Guarantees an implementer must keep:
 * - while `fn` of `withLock(key, fn)` runs, no other `withLock(key, ...)` call's `fn` runs, among
 *   every holder sharing the lock's backing (one process for the in-memory lock, every process on
 *   one database for the Postgres one);
 * - the lock is released when `fn` settles, whether it resolved or threw, and `withLock` settles
 *   with `fn`'s outcome, unless the lock was lost while `fn` ran (see below);
 * - different keys never wait for each other beyond what the backing forces (a hash collision may
 *   serialise two unrelated keys; it never lets two holders of one key in);
 * - a holder that dies (crash, lost connection) releases its keys without anyone's help.
 *
 * When the lock cannot be kept (its connection dropped while `fn` ran), `signal` aborts at once and
 * `withLock` rejects with `SessionKeyLockLostError` (`SESSION_KEY_LOCK_LOST`) once `fn` settles, because another holder
 * may have run concurrently. Waiting callers then reject with a `STORE_FAILED` error.
 */
export interface SessionKeyLock {
  withLock<T>(key: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Rejects later waiters, lets running holders finish, and frees the backing. Idempotent. */
  close(): Promise<void>;
}
