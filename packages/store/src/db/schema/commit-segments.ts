import type { Insertable, Selectable } from "kysely";

/**
 * One closed ownership segment: uncommitted generations `start_gen..end_gen` of a session, owned by
 * the agent `owner_agent` of the process `owner_instance` (both null: nobody yet), closed when a turn
 * of another owner arrived (the newest segment stays open in `commit_sessions`). Committed segments
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
