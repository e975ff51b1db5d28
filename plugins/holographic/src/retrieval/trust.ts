/** Trust a new fact starts with. */
export const DEFAULT_TRUST = 0.5;
/** Asymmetric on purpose: one unhelpful retrieval outweighs two helpful ones. */
export const HELPFUL_DELTA = 0.05;
export const UNHELPFUL_DELTA = -0.1;

/** Trust is always within [0, 1]; NaN clamps to 0 so a bad value can only lower a fact. */
export function clampTrust(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

/** Trust after one piece of feedback: +0.05 when helpful, -0.10 when not, clamped to [0, 1]. */
export function trustAfterFeedback(trust: number, helpful: boolean): number {
  // Rounded to 1e-9: 0.5 + 0.05 + 0.05 ... must not drift to 0.6000000000000001 in stored values.
  return Math.round(clampTrust(trust + (helpful ? HELPFUL_DELTA : UNHELPFUL_DELTA)) * 1e9) / 1e9;
}
