import type { Clock } from "@engram/core";
import type {
  ArchiveStore,
  ArchiveSummary,
  ListArchivesOptions,
  NewSessionArchive,
  SessionArchive,
} from "../../ports/archive-store.js";
import { InMemoryArchiveStore } from "../../ports/in-memory-archive-store.js";

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 4, 15, 10)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and already-resolved continuation run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export type ArchiveOperation = "write" | "list" | "read" | "mark" | "unmark" | "delete";

/**
 * An {@link InMemoryArchiveStore} whose calls can be held at a gate, failed on purpose, or counted.
 * `hook(op, n)` runs before the n-th (1-based) call of `op` and may await or throw.
 */
export class ScriptedArchiveStore implements ArchiveStore {
  readonly inner: InMemoryArchiveStore;
  readonly counts: Record<ArchiveOperation, number> = {
    write: 0,
    list: 0,
    read: 0,
    mark: 0,
    unmark: 0,
    delete: 0,
  };
  hook: ((op: ArchiveOperation, n: number) => unknown) | undefined;

  constructor(clock?: Clock) {
    this.inner = new InMemoryArchiveStore(clock ? { clock } : {});
  }

  async #before(op: ArchiveOperation): Promise<void> {
    this.counts[op] += 1;
    await this.hook?.(op, this.counts[op]);
  }

  async writeArchive(archive: NewSessionArchive): Promise<ArchiveSummary> {
    await this.#before("write");
    return this.inner.writeArchive(archive);
  }
  async listArchives(sessionId: string, options?: ListArchivesOptions): Promise<ArchiveSummary[]> {
    await this.#before("list");
    return this.inner.listArchives(sessionId, options);
  }
  async readArchive(sessionId: string, archiveId: string): Promise<SessionArchive | undefined> {
    await this.#before("read");
    return this.inner.readArchive(sessionId, archiveId);
  }
  async markArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean> {
    await this.#before("mark");
    return this.inner.markArchiveMerged(sessionId, archiveId, mergedInto);
  }
  async unmarkArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean> {
    await this.#before("unmark");
    return this.inner.unmarkArchiveMerged(sessionId, archiveId, mergedInto);
  }
  async deleteArchive(sessionId: string, archiveId: string): Promise<boolean> {
    await this.#before("delete");
    return this.inner.deleteArchive(sessionId, archiveId);
  }
}
