import { StoreError } from "../errors/engram-error.js";
import type { SessionKeyLock } from "./session-key-lock.js";

interface Lane {
  tail: Promise<void>;
  waiting: number;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * {@link SessionKeyLock} for one process (and for PGlite, which only one process can open): holders
 * of a key run one at a time in call order; keys are independent. Nothing can be lost, so the signal
 * never aborts.
 */
export class InMemorySessionKeyLock implements SessionKeyLock {
  readonly #lanes = new Map<string, Lane>();
  #closed = false;

  /** Keys with a holder running or waiting. */
  get activeKeys(): number {
    return this.#lanes.size;
  }

  withLock<T>(key: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError("session-key-lock.acquire", "the lock is closed"));
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { tail: Promise.resolve(), waiting: 0 };
      this.#lanes.set(key, lane);
    }
    const current = lane;
    current.waiting++;
    const result = current.tail.then(() => fn(NEVER_ABORTED));
    const settle = () => {
      current.waiting--;
      // The lane's last holder just settled, so nothing chains on its tail any more.
      if (current.waiting === 0 && this.#lanes.get(key) === current) this.#lanes.delete(key);
    };
    current.tail = result.then(settle, settle);
    return result;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
