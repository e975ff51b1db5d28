/**
 * A clock tests move by hand. It satisfies core's `Clock` shape (`now(): number`, epoch ms), so any
 * time-dependent policy can be driven deterministically without fake timers.
 */
export class FakeClock {
  #now: number;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = checkTime("startMs", startMs);
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` (never backwards: policies may assume a monotonic clock). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    this.#now += ms;
    return this.#now;
  }

  /** Sets the time to `ms`; may move backwards, to test clock skew on purpose. */
  set(ms: number): void {
    this.#now = checkTime("ms", ms);
  }
}

function checkTime(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite epoch ms, got ${value}`);
  return value;
}
