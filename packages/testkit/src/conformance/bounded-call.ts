import { performance } from "node:perf_hooks";

/** How a call to a provider ended. */
export type BoundedOutcome<T> =
  | { readonly kind: "returned"; readonly value: T; readonly syncMs: number; readonly totalMs: number }
  | { readonly kind: "threw"; readonly error: unknown; readonly syncMs: number; readonly totalMs: number }
  | { readonly kind: "timedOut"; readonly syncMs: number; readonly totalMs: number };

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Calls `fn` and waits at most `boundMs` for it to settle. `syncMs` is the time spent before `fn`
 * returned (a provider that blocks the event loop shows up there, and no timer can interrupt it).
 * A call that settles after the bound keeps running; its late result or rejection is swallowed.
 */
export async function callWithin<T>(
  fn: () => T | PromiseLike<T>,
  boundMs: number,
): Promise<BoundedOutcome<T>> {
  const started = performance.now();
  let pending: T | PromiseLike<T>;
  try {
    pending = fn();
  } catch (error) {
    const ms = performance.now() - started;
    return { kind: "threw", error, syncMs: ms, totalMs: ms };
  }
  const syncMs = performance.now() - started;
  if (!isPromiseLike(pending)) return { kind: "returned", value: pending, syncMs, totalMs: syncMs };
  const promise = pending;
  const remaining = Math.max(0, boundMs - syncMs);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timedOut">((resolve) => {
    timer = setTimeout(() => resolve("timedOut"), remaining);
  });
  try {
    const settled = await Promise.race([
      Promise.resolve(promise).then(
        (value) => ({ kind: "returned" as const, value }),
        (error: unknown) => ({ kind: "threw" as const, error }),
      ),
      timedOut,
    ]);
    const totalMs = performance.now() - started;
    if (settled === "timedOut") return { kind: "timedOut", syncMs, totalMs };
    return settled.kind === "returned"
      ? { kind: "returned", value: settled.value, syncMs, totalMs }
      : { kind: "threw", error: settled.error, syncMs, totalMs };
  } finally {
    clearTimeout(timer);
  }
}
