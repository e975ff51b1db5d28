import {
  COS_TABLE,
  fastAtan2,
  PHASE_MASK,
  PHASE_STEPS,
  type PhaseVector,
  SIN_TABLE,
} from "./phase-vector.js";

const STEPS_PER_RADIAN = PHASE_STEPS / (2 * Math.PI);

/**
 * A running sum of unit phasors `Σ e^{iθ}`, one complex number per dimension. Its angle is the
 * circular mean of everything added, so a bundle (or a memory bank) can grow and shrink incrementally:
 * `add` and `remove` cost O(dim) regardless of how many vectors are in it.
 */
export class PhaseAccumulator {
  readonly dim: number;
  /** Real and imaginary parts (float64: thousands of add/remove cycles must not drift). */
  readonly re: Float64Array;
  readonly im: Float64Array;
  count = 0;

  constructor(dim: number) {
    this.dim = dim;
    this.re = new Float64Array(dim);
    this.im = new Float64Array(dim);
  }

  reset(): this {
    this.re.fill(0);
    this.im.fill(0);
    this.count = 0;
    return this;
  }

  /** Adds `e^{i·vector}`. */
  add(vector: PhaseVector): this {
    const { re, im, dim } = this;
    const cos = COS_TABLE;
    const sin = SIN_TABLE;
    for (let i = 0; i < dim; i++) {
      const c = vector[i]!;
      re[i]! += cos[c]!;
      im[i]! += sin[c]!;
    }
    this.count++;
    return this;
  }

  /** Removes a vector added earlier (the inverse of `add`). */
  remove(vector: PhaseVector): this {
    const { re, im, dim } = this;
    const cos = COS_TABLE;
    const sin = SIN_TABLE;
    for (let i = 0; i < dim; i++) {
      const c = vector[i]!;
      re[i]! -= cos[c]!;
      im[i]! -= sin[c]!;
    }
    this.count--;
    return this;
  }

  /** Adds the phasors of `bind(a, b)` without materialising the bound vector. */
  addBound(a: PhaseVector, b: PhaseVector): this {
    const { re, im, dim } = this;
    const cos = COS_TABLE;
    const sin = SIN_TABLE;
    for (let i = 0; i < dim; i++) {
      const c = (a[i]! + b[i]!) & PHASE_MASK;
      re[i]! += cos[c]!;
      im[i]! += sin[c]!;
    }
    this.count++;
    return this;
  }

  /**
   * The circular mean as a phase vector. A dimension whose phasors cancel exactly (or an empty
   * accumulator) has no defined angle and yields code 0.
   */
  toPhaseVector(out: PhaseVector = new Uint16Array(this.dim)): PhaseVector {
    const { re, im, dim } = this;
    for (let i = 0; i < dim; i++)
      out[i] = Math.round(fastAtan2(im[i]!, re[i]!) * STEPS_PER_RADIAN) & PHASE_MASK;
    return out;
  }

  /** Adds another accumulator's sums (merging banks). */
  merge(other: PhaseAccumulator): this {
    for (let i = 0; i < this.dim; i++) {
      this.re[i]! += other.re[i]!;
      this.im[i]! += other.im[i]!;
    }
    this.count += other.count;
    return this;
  }
}
