import { InvalidArgumentError } from "@engram/core";
import { assertSameDim } from "./bind.js";
import { PhaseAccumulator } from "./phase-accumulator.js";
import type { PhaseVector } from "./phase-vector.js";

/**
 * Superposition of `vectors` as their circular mean. The result stays similar to each member
 * (roughly 1/√n for n random members) and holds O(√dim) items before similarity degrades.
 */
export function bundle(vectors: readonly PhaseVector[], out?: PhaseVector): PhaseVector {
  const first = vectors[0];
  if (!first) throw new InvalidArgumentError("vectors", "bundle needs at least one vector");
  const accumulator = new PhaseAccumulator(first.length);
  for (const vector of vectors) {
    assertSameDim(first, vector);
    accumulator.add(vector);
  }
  return accumulator.toPhaseVector(out);
}
