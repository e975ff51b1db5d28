/**
 * Where `value` stops being plain JSON: the path of the first part that `JSON.stringify` would drop,
 * change or choke on (undefined, functions, symbols, bigints, non-finite numbers, class instances,
 * cycles). `undefined` when the whole value round-trips through JSON unchanged.
 */
export function findNonJson(value: unknown, at = "$", seen: Set<object> = new Set()): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${at} (${value})`;
  if (typeof value !== "object") return `${at} (${typeof value})`;
  if (seen.has(value)) return `${at} (cycle)`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const bad = findNonJson(value[i], `${at}[${i}]`, seen);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      return `${at} (instance of ${proto?.constructor?.name})`;
    for (const [key, child] of Object.entries(value)) {
      const bad = findNonJson(child, `${at}.${key}`, seen);
      if (bad !== undefined) return bad;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}
