/** A unit of work the writer runs; `signal` aborts when the writer is aborted (shutdown past its deadline). */
export type WriterJob = (signal: AbortSignal) => Promise<void>;

/**
 * Runs jobs one at a time, in submission order, off the caller's path: `enqueue` never waits and a
 * failing job never stops the ones after it (the job reports its own failure).
 */
export class SerialWriter {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly controller = new AbortController();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Jobs queued or running. */
  get size(): number {
    return this.pending;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  enqueue(job: WriterJob): void {
    this.pending++;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.controller.signal.aborted) await job(this.controller.signal);
      } catch (error) {
        this.onError(error);
      } finally {
        this.pending--;
      }
    });
  }

  /** Resolves `true` once every job queued so far has finished, or `false` after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = (async () => {
      while (this.pending > 0) await this.tail;
      return true as const;
    })();
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Aborts the running job's requests and drops the queued ones. */
  abort(): void {
    this.controller.abort();
  }
}
