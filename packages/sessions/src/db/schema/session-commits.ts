import type { ColumnType } from "kysely";

export const tableName = "session_commits";

/** The last completed memory commit of a session (see `RecordingCommitLedger`). */
export interface SessionCommitTable {
  session_id: string;
  /** The ledger generation the commit reached (every turn up to it is committed). */
  committed_through: ColumnType<string | number, number, number>;
  committed_at: ColumnType<Date, Date | string, Date | string>;
}

export type PartialDB = { [tableName]: SessionCommitTable };
