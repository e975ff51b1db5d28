import { InvalidArgumentError } from "@engram/core";
import { PHASE_MASK, type PhaseVector } from "./phase-vector.js";

export function assertSameDim(a: PhaseVector, b: PhaseVector): void {
  if (a.length !== b.length) {
    throw new InvalidArgumentError(
      "vector",
      `dimensions differ (${a.length} vs ${b.length}); HRR operands must match`,
    );
  }
}

/**
 * Binds `a` with `b` (circular convolution in the phase domain = phase addition mod 2π). The result
 * is quasi-orthogonal to both inputs and `unbind(bind(a, b), b)` returns `a` exactly. `out` may alias
 * either input.
 */
export function bind(
  a: PhaseVector,
  b: PhaseVector,
  out: PhaseVector = new Uint16Array(a.length),
): PhaseVector {
  assertSameDim(a, b);
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! + b[i]!) & PHASE_MASK;
  return out;
}

/** Inverse of {@link bind} (circular correlation = phase subtraction mod 2π). `out` may alias an input. */
export function unbind(
  memory: PhaseVector,
  key: PhaseVector,
  out: PhaseVector = new Uint16Array(memory.length),
): PhaseVector {
  assertSameDim(memory, key);
  for (let i = 0; i < memory.length; i++) out[i] = (memory[i]! - key[i]!) & PHASE_MASK;
  return out;
}
