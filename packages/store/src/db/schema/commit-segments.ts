import type { Insertable, Selectable } from "kysely";

/**
 * One ownership segment: the uncommitted generations `start_gen..end_gen` of a session, owned by the
 * agent `owner_agent` of the process `owner_instance` (both null: nobody yet). Committed segments
 * are deleted; a segment straddling the watermark is trimmed.
 */
export interface CommitSegmentTable {
  session_id: string;
  start_gen: number;
  end_gen: number;
  owner_instance: string | null;
  owner_agent: string | null;
}

export const commitSegmentTableName = "commit_segments";

export type CommitSegmentRow = Selectable<CommitSegmentTable>;
export type NewCommitSegmentRow = Insertable<CommitSegmentTable>;

export interface PartialDB {
  [commitSegmentTableName]: CommitSegmentTable;
}
