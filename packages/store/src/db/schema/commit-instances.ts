import type { Insertable, Selectable } from "kysely";

/** A live commit-coordinator process: live while `expires_at` (epoch ms) is in the future. */
export interface CommitInstanceTable {
  instance_id: string;
  expires_at: number;
}

export const commitInstanceTableName = "commit_instances";

export type CommitInstanceRow = Selectable<CommitInstanceTable>;
export type NewCommitInstanceRow = Insertable<CommitInstanceTable>;

export interface PartialDB {
  [commitInstanceTableName]: CommitInstanceTable;
}
