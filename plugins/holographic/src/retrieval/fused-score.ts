import { InvalidArgumentError } from "@engram/core";

/** Weights of the three relevance signals; they should sum to 1 so relevance stays in [0, 1]. */
export interface RelevanceWeights {
  readonly fullText: number;
  readonly jaccard: number;
  readonly hrr: number;
}

/** Hermes' weights: 0.4 full-text rank, 0.3 token Jaccard, 0.3 HRR similarity. */
export const DEFAULT_RELEVANCE_WEIGHTS: RelevanceWeights = Object.freeze({
  fullText: 0.4,
  jaccard: 0.3,
  hrr: 0.3,
});

/** Each signal on [0, 1]: normalised full-text rank, Jaccard, and HRR similarity shifted to [0, 1]. */
export interface RelevanceSignals {
  readonly fullText: number;
  readonly jaccard: number;
  readonly hrr: number;
}

export function assertRelevanceWeights(weights: RelevanceWeights): void {
  for (const [name, value] of Object.entries(weights)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidArgumentError(`weights.${name}`, `${value} must be a finite number >= 0`);
    }
  }
}

/** `w_ft·fullText + w_j·jaccard + w_h·hrr`. */
export function relevance(
  signals: RelevanceSignals,
  weights: RelevanceWeights = DEFAULT_RELEVANCE_WEIGHTS,
): number {
  return weights.fullText * signals.fullText + weights.jaccard * signals.jaccard + weights.hrr * signals.hrr;
}

/**
 * The search score: relevance times trust, times the temporal decay factor (1 when decay is off).
 * A fact nobody trusts (trust 0) never outranks anything.
 */
export function fusedScore(relevanceValue: number, trust: number, decay = 1): number {
  return relevanceValue * trust * decay;
}

/**
 * Full-text ranks scaled into [0, 1] by the largest rank among the candidates (ranks are
 * only comparable within one query). Writes in place and returns `ranks`.
 */
export function normalizeRanks(ranks: Float64Array | number[]): Float64Array | number[] {
  let max = 1e-6;
  for (let i = 0; i < ranks.length; i++) if (Math.abs(ranks[i]!) > max) max = Math.abs(ranks[i]!);
  for (let i = 0; i < ranks.length; i++) ranks[i] = Math.abs(ranks[i]!) / max;
  return ranks;
}
