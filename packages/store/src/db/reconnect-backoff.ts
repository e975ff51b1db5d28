import { InvalidArgumentError } from "@engram/core";

export interface ReconnectBackoffProps {
  /** Pause before the first retry after a failure, in ms (default 50). */
  readonly minMs?: number;
  /** Longest pause between two retries, in ms (default 5000). */
  readonly maxMs?: number;
  /** Source of randomness in [0, 1) (default `Math.random`); tests fix it. */
  readonly random?: () => number;
}

/**
 * Pauses between reconnection attempts of a dedicated connection (the LISTEN connection, the
 * session-key lock's connection): doubling from `minMs` up to `maxMs`, each drawn between half and all
 * of that step, so the processes a server restart disconnected together do not reconnect in lockstep
 * and a server that stays down is asked at most once per `maxMs`. `reset()` after a success.
 */
export class ReconnectBackoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(props: ReconnectBackoffProps = {}) {
    this.#minMs = props.minMs ?? 50;
    this.#maxMs = props.maxMs ?? 5_000;
    this.#random = props.random ?? Math.random;
    if (!(this.#minMs > 0) || !(this.#maxMs >= this.#minMs)) {
      throw new InvalidArgumentError("minMs", "must be > 0 and at most maxMs");
    }
  }

  /** The pause before the next attempt, in ms; each call without a `reset()` doubles the step. */
  next(): number {
    // 2^30 is far past any cap; stopping there keeps the exponent finite however long the outage.
    const step = Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return step / 2 + (this.#random() * step) / 2;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
