const MOVED =
  'describeMemoryProvider and the per-suite runners moved to "@engram/testkit/vitest" (the root entry no longer imports vitest): import { describeMemoryProvider } from "@engram/testkit/vitest"';

/**
 * @deprecated Import it from `@engram/testkit/vitest`. Kept so an old import fails with a message
 * naming the new one instead of "is not a function".
 */
export function describeMemoryProvider(..._args: unknown[]): never {
  throw new Error(MOVED);
}
