/**
 * Follows compression continuations from `sessionId` to the newest one (the "tip"). When an agent
 * compresses its context mid-turn the transcript continues in a child session; a restart or a failed
 * send can leave the routing index on the compressed parent, and routing must resume the child.
 *
 * `childOf` returns the continuation of a session, or `undefined` when it has none. Cycle-safe: a
 * loop in corrupt lineage data stops at the last session before an id repeats, and the walk stops
 * after `maxHops` steps.
 */
export function resolveCompressionTip(
  sessionId: string,
  childOf: ((id: string) => string | undefined | null) | ReadonlyMap<string, string>,
  maxHops = 1000,
): string {
  const next = typeof childOf === "function" ? childOf : (id: string) => childOf.get(id);
  const seen = new Set([sessionId]);
  let tip = sessionId;
  for (let hop = 0; hop < maxHops; hop++) {
    const child = next(tip);
    if (!child || seen.has(child)) break;
    seen.add(child);
    tip = child;
  }
  return tip;
}

/**
 * The id to rewrite a routing entry to after a tip lookup, or `undefined` to leave it alone. The
 * lookup ran without the index lock, so heal only when the entry still points at the id that was
 * looked up (`lookedUpId`) and the tip differs from it; otherwise a concurrent reset or switch
 * would be overwritten.
 */
export function healedSessionId(props: {
  readonly currentId: string;
  readonly lookedUpId: string | undefined;
  readonly tipId: string | undefined;
}): string | undefined {
  const { currentId, lookedUpId, tipId } = props;
  if (!lookedUpId || !tipId || currentId !== lookedUpId || tipId === lookedUpId) return undefined;
  return tipId;
}
