/**
 * Archive store port (seed 001): where a session buffer's committed messages go, each batch as one
 * archive with a compressed overview and a one-line abstract. Older archives are merged into one
 * once a session holds too many; merged sources stay readable but drop out of listings.
 *
 * Implemented by `InMemoryArchiveStore` (reference, one process) and `@engram/store`'s
 * `PostgresArchiveStore`. Every implementation must pass the archive-store conformance suite.
 * Times are epoch milliseconds.
 */

import type { JsonObject } from "@engram/core";
import { assertSafeId, InvalidArgumentError } from "@engram/core";

/** One archived message, as it stood in the buffer when it was committed. */
export interface ArchivedMessage {
  readonly id: string;
  readonly role: string;
  readonly content: string;
  readonly createdAt: number;
}

/** What listings return: everything but the messages. */
export interface ArchiveSummary {
  readonly sessionId: string;
  readonly archiveId: string;
  readonly overview: string;
  readonly abstract: string;
  readonly messageCount: number;
  readonly metadata: JsonObject;
  readonly createdAt: number;
  /** The archive this one was merged into, or `null` while it is live. */
  readonly mergedInto: string | null;
}

export interface SessionArchive extends ArchiveSummary {
  readonly messages: readonly ArchivedMessage[];
}

export interface NewSessionArchive {
  readonly sessionId: string;
  readonly archiveId: string;
  readonly overview: string;
  readonly abstract: string;
  readonly messages: readonly ArchivedMessage[];
  readonly metadata?: JsonObject;
  /** Defaults to the store's clock. A merged archive passes its newest source's time. */
  readonly createdAt?: number;
}

export interface ListArchivesOptions {
  /** Include archives already merged into another one (default false). */
  readonly includeMerged?: boolean;
}

/**
 * Durable archives of committed session messages. Guarantees every implementation keeps:
 *
 * - `writeArchive` is all-or-nothing and never overwrites: a second write of the same
 *   `(sessionId, archiveId)` throws `CONFLICT` and leaves the first intact.
 * - `listArchives` returns newest first (`createdAt` descending, then `archiveId` descending) and,
 *   unless asked, only live archives (`mergedInto === null`).
 * - `markArchiveMerged` is compare-and-set: it succeeds (true) only on a live archive, or one already
 *   merged into the same target (idempotent); an archive merged elsewhere or missing gives false.
 *   `unmarkArchiveMerged` reverts only a mark into the given target, so a rollback never undoes
 *   someone else's merge: true when the archive is live afterwards (it was marked into that target,
 *   or already live), false when it is missing or merged elsewhere.
 * - Sessions never see each other's archives.
 * - Failures of the backing store surface as `STORE_FAILED` errors; invalid ids as `INVALID_ID`.
 */
export interface ArchiveStore {
  writeArchive(archive: NewSessionArchive): Promise<ArchiveSummary>;
  listArchives(sessionId: string, options?: ListArchivesOptions): Promise<ArchiveSummary[]>;
  readArchive(sessionId: string, archiveId: string): Promise<SessionArchive | undefined>;
  markArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean>;
  unmarkArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean>;
  /** True when an archive was deleted. */
  deleteArchive(sessionId: string, archiveId: string): Promise<boolean>;
}

/** Validates a new archive before any write; shared by every implementation. */
export function assertNewSessionArchive(archive: NewSessionArchive): void {
  assertSafeId("session id", archive.sessionId);
  assertSafeId("archive id", archive.archiveId);
  if (typeof archive.overview !== "string") throw new InvalidArgumentError("overview", "must be a string");
  if (typeof archive.abstract !== "string") throw new InvalidArgumentError("abstract", "must be a string");
  if (!Array.isArray(archive.messages)) throw new InvalidArgumentError("messages", "must be an array");
  for (const [i, message] of archive.messages.entries()) {
    if (
      typeof message?.id !== "string" ||
      typeof message.role !== "string" ||
      typeof message.content !== "string" ||
      !Number.isFinite(message.createdAt)
    ) {
      throw new InvalidArgumentError(
        `messages[${i}]`,
        "must have string id, role and content and a finite createdAt",
      );
    }
  }
  if (archive.createdAt !== undefined && !Number.isFinite(archive.createdAt)) {
    throw new InvalidArgumentError("createdAt", "must be a finite epoch-millisecond number");
  }
}

/** The listing order every implementation uses: newest first, ties by archive id descending. */
export function compareArchivesNewestFirst(a: ArchiveSummary, b: ArchiveSummary): number {
  return b.createdAt - a.createdAt || (a.archiveId < b.archiveId ? 1 : a.archiveId > b.archiveId ? -1 : 0);
}
