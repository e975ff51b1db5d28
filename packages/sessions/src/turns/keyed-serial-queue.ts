interface Lane {
  tail: Promise<void>;
  pending: number;
}

/**
 * Runs tasks one at a time per key, in the order they were queued, and tasks of different keys
 * concurrently. A task that fails does not stop the ones queued after it. Nothing is ever dropped:
 * every `run` settles with its own task's outcome.
 */
export class KeyedSerialQueue {
  readonly #lanes = new Map<string, Lane>();
  #pending = 0;

  /** Tasks queued or running, over all keys. */
  get depth(): number {
    return this.#pending;
  }

  /** Tasks queued or running for `key`. */
  depthOf(key: string): number {
    return this.#lanes.get(key)?.pending ?? 0;
  }

  /** Keys with at least one task queued or running. */
  get activeKeys(): number {
    return this.#lanes.size;
  }

  /** The keys with a task queued or running. */
  keys(): string[] {
    return [...this.#lanes.keys()];
  }

  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { tail: Promise.resolve(), pending: 0 };
      this.#lanes.set(key, lane);
    }
    const current = lane;
    current.pending++;
    this.#pending++;
    const result = current.tail.then(() => task());
    current.tail = result.then(
      () => this.#settle(key, current),
      () => this.#settle(key, current),
    );
    return result;
  }

  #settle(key: string, lane: Lane): void {
    lane.pending--;
    this.#pending--;
    // The lane's last task just settled, so nothing chains on its tail any more.
    if (lane.pending === 0 && this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }
}
