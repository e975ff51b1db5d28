import type { Jsonb, Timestamp } from "@engram/store";
import type { ColumnType, Insertable, Selectable } from "kysely";

/** An `integer` column read and written as a number. */
type Int4 = ColumnType<number, number, number>;

/**
 * One archive of a session buffer's committed messages (seed 001): the compressed overview and
 * abstract, the messages as committed, and — once merged into a newer archive — the merged archive's
 * id. Merged rows are kept (readable, not listed) so a merge can be undone.
 */
export type SessionArchiveTable = {
  session_id: string;
  archive_id: string;
  overview: string;
  abstract: string;
  /** `ArchivedMessage[]` as JSON. */
  messages: Jsonb;
  message_count: Int4;
  metadata: Jsonb;
  created_at: Timestamp;
  merged_into: string | null;
};

export const sessionArchiveTableName = "session_archives";

export type SessionArchiveRow = Selectable<SessionArchiveTable>;
export type NewSessionArchiveRow = Insertable<SessionArchiveTable>;

export type PartialDB = {
  [sessionArchiveTableName]: SessionArchiveTable;
};
