/**
 * The semantic arm without embeddings: cosine similarity of character-trigram count vectors over
 * lowercased, punctuation-free text. Deterministic, and close enough to "means the same words,
 * spelled a bit differently" for a stand-in server.
 */
export type TrigramVector = ReadonlyMap<string, number>;

export function trigramVector(text: string): TrigramVector {
  const normalised = ` ${text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()} `;
  const counts = new Map<string, number>();
  for (let i = 0; i + 3 <= normalised.length; i++) {
    const gram = normalised.slice(i, i + 3);
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

function norm(vector: TrigramVector): number {
  let sum = 0;
  for (const count of vector.values()) sum += count * count;
  return Math.sqrt(sum);
}

/** Cosine similarity in [0, 1]; 0 when either side is empty. */
export function trigramCosine(a: TrigramVector, b: TrigramVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [gram, count] of small) dot += count * (large.get(gram) ?? 0);
  if (dot === 0) return 0;
  return dot / (norm(a) * norm(b));
}
