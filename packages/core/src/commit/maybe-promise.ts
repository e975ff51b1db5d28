/**
 * A value that is either ready now or arrives later. Hot paths (the in-memory commit ledger, a
 * synchronous agent) return plain values so that no promise is allocated; callers branch with
 * {@link isPromise} and only go asynchronous when something actually is.
 */
export type MaybePromise<T> = T | Promise<T>;

/** True when `value` is a native promise (what `async` functions and Kysely return). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** Applies `next` to `value` now, or after it resolves; stays synchronous for plain values. */
export function thenMaybe<T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
