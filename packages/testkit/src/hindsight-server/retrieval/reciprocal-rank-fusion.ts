/** The `k` of reciprocal rank fusion, as in Hindsight (and the original RRF paper). */
export const RRF_K = 60;

/**
 * Fuses ranked id lists: each list adds `1 / (k + rank)` (rank from 1) to an id's score. Ties break on
 * the order ids were first seen, so the result is deterministic for deterministic arms.
 */
export function reciprocalRankFusion(
  rankings: ReadonlyArray<readonly string[]>,
  k: number = RRF_K,
): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, index) => {
      scores.set(id, (scores.get(id) ?? 0) + 1 / (k + index + 1));
    });
  }
  const order = [...scores.keys()];
  return order
    .map((id, seen) => ({ id, score: scores.get(id) ?? 0, seen }))
    .sort((a, b) => b.score - a.score || a.seen - b.seen)
    .map(({ id, score }) => ({ id, score }));
}
