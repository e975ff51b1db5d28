/**
 * Freezes `value` and everything reachable from it. The kit hands providers frozen arguments: the
 * contract says hooks never mutate what they receive, and in strict-mode code (every ES module) a
 * mutation of a frozen object throws, so the offending hook fails loudly instead of corrupting the
 * host's transcript.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
