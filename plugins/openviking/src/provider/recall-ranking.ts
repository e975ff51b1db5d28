/** One hit of `POST /api/v1/search/{find,search}` (the fields recall uses). */
export interface MatchedContext {
  readonly uri: string;
  readonly score: number;
  readonly category: string;
  readonly abstract: string;
  readonly level: number;
}

export interface RecallProps {
  /** Hits below this score are dropped (default 0.15). */
  readonly scoreThreshold: number;
  /** At most this many memories are injected (default 6). */
  readonly limit: number;
  /** Total characters injected; the hit that would overflow it and all later ones are left out (default 4000). */
  readonly maxChars: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the hits of a find/search result; malformed entries are skipped, not fatal. */
export function matchedContexts(result: unknown, groups: readonly string[] = ["memories"]): MatchedContext[] {
  if (!isObject(result)) return [];
  const hits: MatchedContext[] = [];
  for (const group of groups) {
    const list = result[group];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item) || typeof item.uri !== "string") continue;
      const text =
        typeof item.abstract === "string" && item.abstract
          ? item.abstract
          : typeof item.overview === "string"
            ? item.overview
            : "";
      hits.push({
        uri: item.uri,
        score: typeof item.score === "number" && Number.isFinite(item.score) ? item.score : 0,
        category: typeof item.category === "string" ? item.category : "",
        abstract: text,
        level: typeof item.level === "number" ? item.level : 2,
      });
    }
  }
  return hits;
}

/**
 * Thresholds, dedupes (same URI, or same text under another URI), ranks by score (URI breaks ties, so
 * the output is deterministic) and fits the hits to the limit and the character budget.
 */
export function rankRecall(hits: readonly MatchedContext[], props: RecallProps): MatchedContext[] {
  const byUri = new Map<string, MatchedContext>();
  for (const hit of hits) {
    if (hit.score < props.scoreThreshold || !hit.abstract.trim()) continue;
    const seen = byUri.get(hit.uri);
    if (!seen || hit.score > seen.score) byUri.set(hit.uri, hit);
  }
  const ranked = [...byUri.values()].sort((a, b) => b.score - a.score || a.uri.localeCompare(b.uri));
  const texts = new Set<string>();
  const kept: MatchedContext[] = [];
  let used = 0;
  for (const hit of ranked) {
    const key = hit.abstract.trim().toLowerCase().replace(/\s+/g, " ");
    if (texts.has(key)) continue;
    const line = formatRecallLine(hit);
    if (used + line.length + 1 > props.maxChars || kept.length >= props.limit) break;
    texts.add(key);
    kept.push(hit);
    used += line.length + 1;
  }
  return kept;
}

export function formatRecallLine(hit: MatchedContext): string {
  const label = hit.category ? `[${hit.category}] ` : "";
  return `- ${label}${hit.abstract.trim()} (${hit.uri})`;
}
