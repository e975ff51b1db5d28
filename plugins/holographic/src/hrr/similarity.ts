import { assertSameDim } from "./bind.js";
import { COS_TABLE, PHASE_MASK, type PhaseVector } from "./phase-vector.js";

/**
 * Phase cosine similarity: the mean of `cos(aᵢ - bᵢ)`, in [-1, 1]. 1 for identical vectors, about 0
 * (± 1/√dim) for unrelated ones. One table lookup per element, no allocation.
 */
export function similarity(a: PhaseVector, b: PhaseVector): number {
  assertSameDim(a, b);
  return similarityAt(a, 0, b, a.length);
}

/**
 * {@link similarity} between `key` and the `dim` codes of `store` starting at `offset`: lets an index keep
 * every vector in one big typed array and score a slot without creating a view.
 */
export function similarityAt(store: Uint16Array, offset: number, key: PhaseVector, dim: number): number {
  const cos = COS_TABLE;
  // Four independent sums let the table loads overlap instead of waiting on one add chain.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = dim & ~3;
  let i = 0;
  for (; i < end4; i += 4) {
    const o = offset + i;
    s0 += cos[(store[o]! - key[i]!) & PHASE_MASK]!;
    s1 += cos[(store[o + 1]! - key[i + 1]!) & PHASE_MASK]!;
    s2 += cos[(store[o + 2]! - key[i + 2]!) & PHASE_MASK]!;
    s3 += cos[(store[o + 3]! - key[i + 3]!) & PHASE_MASK]!;
  }
  for (; i < dim; i++) s0 += cos[(store[offset + i]! - key[i]!) & PHASE_MASK]!;
  return (s0 + s1 + s2 + s3) / dim;
}

/**
 * `max(similarityAt(store, offset, a, dim), similarityAt(store, offset, b, dim))` reading the stored
 * vector once: "is this word present in either role" queries pay one pass over memory, not two.
 */
export function maxSimilarityAt(
  store: Uint16Array,
  offset: number,
  a: PhaseVector,
  b: PhaseVector,
  dim: number,
): number {
  const cos = COS_TABLE;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < dim; i++) {
    const code = store[offset + i]!;
    sa += cos[(code - a[i]!) & PHASE_MASK]!;
    sb += cos[(code - b[i]!) & PHASE_MASK]!;
  }
  return Math.max(sa, sb) / dim;
}

/** Maps a similarity from [-1, 1] onto [0, 1] (the scale retrieval scores use). */
export function similarityToUnit(value: number): number {
  return (value + 1) / 2;
}
