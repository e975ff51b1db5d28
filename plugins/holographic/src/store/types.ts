/** A stored fact as callers see it (a snapshot: later changes do not show through). */
export interface Fact {
  readonly id: number;
  readonly content: string;
  readonly category: string;
  readonly tags: string;
  /** In [0, 1]; moved by feedback. */
  readonly trust: number;
  readonly retrievalCount: number;
  readonly helpfulCount: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Canonical names of the linked entities (aliases resolved), in link order. */
  readonly entities: readonly string[];
}

/** A fact with the score that ranked it (higher is better; search scores are in [0, 1]). */
export interface ScoredFact extends Fact {
  readonly score: number;
}

export interface AddFactInput {
  readonly content: string;
  /** Default `general`. */
  readonly category?: string;
  /** Free text, searched together with the content. */
  readonly tags?: string;
}

export interface AddFactResult {
  readonly fact: Fact;
  /** False when a fact with the same content already existed (it is returned unchanged). */
  readonly created: boolean;
}

export interface UpdateFactInput {
  readonly content?: string;
  readonly category?: string;
  readonly tags?: string;
  /** Added to the trust score, then clamped to [0, 1]. */
  readonly trustDelta?: number;
}

export interface SearchOptions {
  readonly category?: string;
  /** Facts below this trust are not returned (default 0.3). */
  readonly minTrust?: number;
  /** Default 10. */
  readonly limit?: number;
}

export interface EntityQueryOptions {
  readonly category?: string;
  /** Default 10. */
  readonly limit?: number;
}

export interface ListOptions {
  readonly category?: string;
  /** Default 0. */
  readonly minTrust?: number;
  /** Default 50. */
  readonly limit?: number;
}

export interface ContradictOptions {
  readonly category?: string;
  /** Smallest contradiction score reported (default 0.3). */
  readonly threshold?: number;
  /** Default 10. */
  readonly limit?: number;
}

/** Two facts about the same entities that say different things. */
export interface Contradiction {
  readonly factA: Fact;
  readonly factB: Fact;
  /** Jaccard of the two facts' entity sets. */
  readonly entityOverlap: number;
  /** HRR similarity of the two fact vectors, in [-1, 1]. */
  readonly contentSimilarity: number;
  readonly score: number;
  readonly sharedEntities: readonly string[];
}

export interface FeedbackResult {
  readonly factId: number;
  readonly oldTrust: number;
  readonly newTrust: number;
  readonly helpfulCount: number;
}

/** A named entity with its aliases. */
export interface Entity {
  readonly id: number;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly factCount: number;
}
