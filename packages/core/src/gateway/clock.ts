/**
 * The source of "now" for every time-dependent policy. Inject it; never call `Date.now()` inside a
 * policy, so tests can drive time and several processes can agree on how it is read.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. Implementations must never return NaN. */
  now(): number;
}

/** The wall clock of the running process. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
