import {
  assertSafeId,
  type Clock,
  ConflictError,
  isEngramError,
  StoreError,
  systemClock,
} from "@engram/core";
import { type Kysely, sql } from "kysely";
import type { SessionBufferDB } from "../db/schema/index.js";
import {
  type ArchiveStore,
  type ArchiveSummary,
  assertNewSessionArchive,
  type ListArchivesOptions,
  type NewSessionArchive,
  type SessionArchive,
} from "../ports/index.js";
import { archiveFromRow, messagesToJson, summaryFromRow } from "./archive-rows.js";

export interface PostgresArchiveStoreProps {
  /** Source of `createdAt` when a write does not give one (default: the system clock). */
  readonly clock?: Clock;
}

const SUMMARY_COLUMNS = [
  "session_id",
  "archive_id",
  "overview",
  "abstract",
  "message_count",
  "metadata",
  "created_at",
  "merged_into",
] as const;

/**
 * {@link ArchiveStore} on PostgreSQL or PGlite: one row per archive in `session_archives`, keyed by
 * `(session_id, archive_id)`. Every method is one statement: the insert is `ON CONFLICT DO NOTHING`
 * (so a duplicate is detected without a read-then-write race) and merge marks are conditional
 * UPDATEs, which makes them compare-and-set across processes. Ids compare in the "C" collation so
 * the order matches the in-memory reference byte for byte.
 */
export class PostgresArchiveStore implements ArchiveStore {
  readonly #db: Kysely<SessionBufferDB>;
  readonly #clock: Clock;

  constructor(db: Kysely<SessionBufferDB>, props: PostgresArchiveStoreProps = {}) {
    this.#db = db;
    this.#clock = props.clock ?? systemClock;
  }

  async #guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isEngramError(error)) throw error;
      throw new StoreError(operation, error);
    }
  }

  async writeArchive(archive: NewSessionArchive): Promise<ArchiveSummary> {
    assertNewSessionArchive(archive);
    return this.#guard("archive.write", async () => {
      const row = await this.#db
        .insertInto("session_archives")
        .values({
          session_id: archive.sessionId,
          archive_id: archive.archiveId,
          overview: archive.overview,
          abstract: archive.abstract,
          messages: messagesToJson(archive.messages),
          message_count: archive.messages.length,
          metadata: JSON.stringify(archive.metadata ?? {}),
          created_at: new Date(archive.createdAt ?? this.#clock.now()),
          merged_into: null,
        })
        .onConflict((oc) => oc.columns(["session_id", "archive_id"]).doNothing())
        .returning(SUMMARY_COLUMNS)
        .executeTakeFirst();
      if (!row) {
        throw new ConflictError(`Archive ${JSON.stringify(archive.archiveId)} already exists`, {
          sessionId: archive.sessionId,
          archiveId: archive.archiveId,
        });
      }
      return summaryFromRow(row);
    });
  }

  async listArchives(sessionId: string, options: ListArchivesOptions = {}): Promise<ArchiveSummary[]> {
    assertSafeId("session id", sessionId);
    return this.#guard("archive.list", async () => {
      let query = this.#db
        .selectFrom("session_archives")
        .select(SUMMARY_COLUMNS)
        .where("session_id", "=", sessionId)
        .orderBy("created_at", "desc")
        .orderBy(sql`archive_id collate "C"`, "desc");
      if (!options.includeMerged) query = query.where("merged_into", "is", null);
      return (await query.execute()).map(summaryFromRow);
    });
  }

  async readArchive(sessionId: string, archiveId: string): Promise<SessionArchive | undefined> {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    return this.#guard("archive.read", async () => {
      const row = await this.#db
        .selectFrom("session_archives")
        .selectAll()
        .where("session_id", "=", sessionId)
        .where("archive_id", "=", archiveId)
        .executeTakeFirst();
      return row ? archiveFromRow(row) : undefined;
    });
  }

  async markArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    assertSafeId("archive id", mergedInto);
    return this.#guard("archive.mark", async () => {
      const row = await this.#db
        .updateTable("session_archives")
        .set({ merged_into: mergedInto })
        .where("session_id", "=", sessionId)
        .where("archive_id", "=", archiveId)
        .where((eb) => eb.or([eb("merged_into", "is", null), eb("merged_into", "=", mergedInto)]))
        .returning("archive_id")
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async unmarkArchiveMerged(sessionId: string, archiveId: string, mergedInto: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    assertSafeId("archive id", mergedInto);
    return this.#guard("archive.unmark", async () => {
      const row = await this.#db
        .updateTable("session_archives")
        .set({ merged_into: null })
        .where("session_id", "=", sessionId)
        .where("archive_id", "=", archiveId)
        .where((eb) => eb.or([eb("merged_into", "is", null), eb("merged_into", "=", mergedInto)]))
        .returning("archive_id")
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async deleteArchive(sessionId: string, archiveId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    assertSafeId("archive id", archiveId);
    return this.#guard("archive.delete", async () => {
      const row = await this.#db
        .deleteFrom("session_archives")
        .where("session_id", "=", sessionId)
        .where("archive_id", "=", archiveId)
        .returning("archive_id")
        .executeTakeFirst();
      return row !== undefined;
    });
  }
}
