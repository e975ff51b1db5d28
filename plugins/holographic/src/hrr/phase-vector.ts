/**
 * A phase vector: element `i` is an angle θᵢ in [0, 2π), stored as the fixed-point code
 * `round(θᵢ · 65536 / 2π) mod 65536`. Fixed point makes binding exact modular integer arithmetic (no
 * drift from `% 2π` on floats), halves the memory of float32, and lets cosines come from one
 * precomputed table instead of `Math.cos` per element. The quantisation step (2π / 65536 ≈ 9.6e-5 rad)
 * moves a similarity by less than 1e-4.
 */
export type PhaseVector = Uint16Array;

/** Codes per full turn: code `c` is the angle `c · 2π / PHASE_STEPS`. */
export const PHASE_STEPS = 65536;
/** `code & PHASE_MASK` reduces any integer code modulo 2π. */
export const PHASE_MASK = 0xffff;
/** Default vector dimension (Hermes' `hrr_dim`). */
export const DEFAULT_DIM = 1024;

const QUARTER_TURN = PHASE_STEPS / 4;
const RADIANS_PER_STEP = (2 * Math.PI) / PHASE_STEPS;
const STEPS_PER_RADIAN = PHASE_STEPS / (2 * Math.PI);

/**
 * `COS_TABLE[c] = cos(c · 2π / 65536)`. Float32 keeps the table at 256 KiB so it stays in L2 during
 * scans; sums are still accumulated in float64.
 */
export const COS_TABLE: Float32Array = (() => {
  const table = new Float32Array(PHASE_STEPS);
  for (let c = 0; c < PHASE_STEPS; c++) table[c] = Math.cos(c * RADIANS_PER_STEP);
  return table;
})();

/**
 * `SIN_TABLE[c] = sin(c · 2π / 65536)`. Equal to `COS_TABLE[(c - 16384) & 0xffff]`, but a second table
 * saves the index arithmetic in the accumulation loops.
 */
export const SIN_TABLE: Float32Array = (() => {
  const table = new Float32Array(PHASE_STEPS);
  for (let c = 0; c < PHASE_STEPS; c++) table[c] = COS_TABLE[(c - QUARTER_TURN) & PHASE_MASK]!;
  return table;
})();

export function sinOfCode(code: number): number {
  return SIN_TABLE[code & PHASE_MASK]!;
}

export function cosOfCode(code: number): number {
  return COS_TABLE[code & PHASE_MASK]!;
}

/** The code nearest to angle `radians` (any real number; reduced modulo 2π). */
export function codeOfRadians(radians: number): number {
  return Math.round(radians * STEPS_PER_RADIAN) & PHASE_MASK;
}

/**
 * `atan2(y, x)` to within 1e-6 rad (a hundredth of one phase step) at about half the cost of
 * `Math.atan2`: the bundle of every fact pays one per dimension. Returns 0 for (0, 0).
 */
export function fastAtan2(y: number, x: number): number {
  const ax = x < 0 ? -x : x;
  const ay = y < 0 ? -y : y;
  const max = Math.max(ax, ay);
  if (max === 0) return 0;
  const a = Math.min(ax, ay) / max;
  const s = a * a;
  // Minimax polynomial for atan on [0, 1].
  let r =
    ((((((-0.004054058 * s + 0.0218612288) * s - 0.0559098861) * s + 0.0964200441) * s - 0.1390853351) * s +
      0.1994653599) *
      s -
      0.3332985605) *
      s *
      a +
    a;
  if (ay > ax) r = 1.5707963267948966 - r;
  if (x < 0) r = Math.PI - r;
  return y < 0 ? -r : r;
}

export function radiansOfCode(code: number): number {
  return (code & PHASE_MASK) * RADIANS_PER_STEP;
}

/** Angles in radians of `vector`, each in [0, 2π). */
export function toRadians(
  vector: PhaseVector,
  out: Float64Array = new Float64Array(vector.length),
): Float64Array {
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! * RADIANS_PER_STEP;
  return out;
}

/** A phase vector from angles in radians (any real values; reduced modulo 2π). */
export function fromRadians(
  radians: ArrayLike<number>,
  out: PhaseVector = new Uint16Array(radians.length),
): PhaseVector {
  for (let i = 0; i < radians.length; i++) out[i] = codeOfRadians(radians[i]!);
  return out;
}
