const DAY_MS = 86_400_000;

/**
 * `0.5 ^ (age / halfLife)`: 1 for a fact updated now, 0.5 one half-life later. A half-life of 0 (or
 * less) disables decay; a timestamp in the future counts as age 0.
 */
export function temporalDecay(updatedAtMs: number, nowMs: number, halfLifeMs: number): number {
  if (!(halfLifeMs > 0)) return 1;
  const age = Math.max(0, nowMs - updatedAtMs);
  return 0.5 ** (age / halfLifeMs);
}

/** Half-life given in days (Hermes' `temporal_decay_half_life`) in milliseconds. */
export function halfLifeDaysToMs(days: number): number {
  return days * DAY_MS;
}
