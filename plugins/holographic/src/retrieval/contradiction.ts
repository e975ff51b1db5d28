/** Entity overlap below this never counts as a contradiction: the facts are about different things. */
export const MIN_CONTRADICTION_OVERLAP = 0.3;
/** Default score a pair needs to be reported. */
export const DEFAULT_CONTRADICTION_THRESHOLD = 0.3;

/**
 * How contradictory two facts look: `entityOverlap · (1 - (contentSimilarity + 1) / 2)`. High when they
 * are about the same entities (overlap is the Jaccard of their entity sets) but say different things
 * (HRR similarity in [-1, 1] is low). 0 when the overlap is under {@link MIN_CONTRADICTION_OVERLAP}.
 */
export function contradictionScore(entityOverlap: number, contentSimilarity: number): number {
  if (entityOverlap < MIN_CONTRADICTION_OVERLAP) return 0;
  return entityOverlap * (1 - (contentSimilarity + 1) / 2);
}
