import { assertSafeId, type Clock, ConflictError, systemClock } from "@engram/core";
import {
  type ArchiveStore,
  type ArchiveSummary,
  assertNewSessionArchive,
  compareArchivesNewestFirst,
  type ListArchivesOptions,
  type NewSessionArchive,
  type SessionArchive,
} from "./archive-store.js";

export interface InMemoryArchiveStoreProps {
  readonly clock?: Clock;
}

function summaryOf(archive: SessionArchive): ArchiveSummary {
  const { messages: _messages, ...summary } = archive;
  return summary;
}

/**
 * The reference {@link ArchiveStore} for one process. Archives are frozen objects in a map per
 * session; each method reads and replaces without an `await` in between, so every call is atomic
 * with respect to the others — what the database implementation gets from single statements.
 */
export class InMemoryArchiveStore implements ArchiveStore {
  readonly #sessions = new Map<string, Map<string, SessionArchive>>();
  readonly #clock: Clock;

  constructor(props: InMemoryArchiveStoreProps = {}) {
    this.#clock = props.clock ?? systemClock;
  }

  async writeArchive(archive: NewSessionArchive): Promise<ArchiveSummary> {
    assertNewSessionArchive(archive);
    let archives = this.#sessions.get(archive.sessionId);
    if (archives?.has(archive.archiveId)) {
      throw new ConflictError(`Archive ${JSON.stringify(archive.archiveId)} already exists`, {
        sessionId: archive.sessionId,
        archiveId: archive.archiveId,
      });
    }
    // Copy everything the caller handed in: later mutation of their arrays must not reach the store.
    const stored: SessionArchive = Object.freeze({
      sessionId: archive.sessionId,
      archiveId: archive.archiveId,
      overview: archive.overview,
      abstract: archive.abstract,
      messageCount: archive.messages.length,
      messages: Object.freeze(archive.messages.map((message) => Object.freeze({ ...message }))),
      metadata: structuredClone(archive.metadata ?? {}),
      createdAt: archive.createdAt ?? this.#clock.now(),
      mergedInto: null,
    });
    if (!archives) {
      archives = new Map();
      this.#sessions.set(archive.sessionId, archives);
    }
    archives.set(archive.archiveId, stored);
    return summaryOf(stored);
  }

  async listArchives(sessionId: string, options: ListArchivesOptions = {}): Promise<ArchiveSummary[]> {
    assertSafeId("session id", sessionId);
    return [...(this.#sessions.get(sessionId)?.values() ?? [])]
      .filter((archive) => options.includeMerged || archive.mergedInto === null)
      .map(summaryOf)
      .sort(compareArchivesNewestFirst);
  }

  async readArchive(sessionId: string, archiveId: string): Promise<SessionArchive | undefined> {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    return this.#sessions.get(sessionId)?.get(archiveId);
  }

  async markArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean> {
    return this.#setMergedInto(sessionId, archiveId, mergedInto, null, mergedInto);
  }

  async unmarkArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean> {
    return this.#setMergedInto(sessionId, archiveId, mergedInto, mergedInto, null);
  }

  async deleteArchive(sessionId: string, archiveId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    return this.#sessions.get(sessionId)?.delete(archiveId) ?? false;
  }

  /** Compare-and-set of `mergedInto`: `from` is the value required (or `next` already there). */
  #setMergedInto(
    sessionId: string,
    archiveId: string,
    target: string,
    from: string | null,
    next: string | null,
  ): boolean {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    assertSafeId("archive id", target);
    const archives = this.#sessions.get(sessionId);
    const archive = archives?.get(archiveId);
    if (!archives || !archive) return false;
    if (archive.mergedInto === next) return true;
    if (archive.mergedInto !== from) return false;
    archives.set(archiveId, Object.freeze({ ...archive, mergedInto: next }));
    return true;
  }
}
