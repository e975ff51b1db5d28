interface Pending<In, Out> {
  input: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

export interface QueryBatcherProps<In, Out> {
  /** Queries of this kind allowed at once; calls beyond wait and are sent together. */
  readonly maxInFlight: number;
  /** Largest batch. */
  readonly maxBatch: number;
  /** Runs one call (the cheaper query when nothing is waiting). */
  readonly single: (input: In) => Promise<Out>;
  /** Runs many calls in one query; answers in input order. */
  readonly batch: (inputs: In[]) => Promise<Out[]>;
}

/**
 * Natural batching without timers: a call runs at once while fewer than `maxInFlight` queries of its
 * kind are running; otherwise it queues, and whenever a query finishes the queue goes out as one
 * batch. A lone caller never waits; many concurrent callers share round trips and transactions. A
 * failed batch fails every call in it.
 */
export class QueryBatcher<In, Out> {
  readonly #props: QueryBatcherProps<In, Out>;
  #queue: Pending<In, Out>[] = [];
  #inFlight = 0;

  constructor(props: QueryBatcherProps<In, Out>) {
    this.#props = props;
  }

  run(input: In): Promise<Out> {
    if (this.#inFlight < this.#props.maxInFlight && this.#queue.length === 0) {
      this.#inFlight++;
      return this.#props.single(input).finally(() => this.#settled());
    }
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#drain();
    });
  }

  #settled(): void {
    this.#inFlight--;
    this.#drain();
  }

  #drain(): void {
    while (this.#inFlight < this.#props.maxInFlight && this.#queue.length > 0) {
      const items = this.#queue.splice(0, this.#props.maxBatch);
      this.#inFlight++;
      const first = items[0]!;
      const answer =
        items.length === 1
          ? this.#props.single(first.input).then((out) => [out])
          : this.#props.batch(items.map((item) => item.input));
      answer
        .then(
          (outs) => {
            for (let i = 0; i < items.length; i++) items[i]!.resolve(outs[i] as Out);
          },
          (error: unknown) => {
            for (const item of items) item.reject(error);
          },
        )
        .finally(() => this.#settled());
    }
  }
}
