import type { Generated, Insertable, Selectable } from "kysely";

/**
 * Commit-ledger state of one session (seed 000): the generation counter (one per completed turn),
 * the committed watermark and the in-flight lease. Times are epoch ms from the ledger's clock.
 */
export interface CommitSessionTable {
  session_id: string;
  /** Last generation handed out; never reused. */
  generation: Generated<number>;
  /** Every generation <= this one is committed. */
  committed: Generated<number>;
  /** Claims ever made on this session: the next lease id. */
  lease_seq: Generated<number>;
  /** The held lease, or null. */
  lease_id: number | null;
  lease_instance: string | null;
  lease_expires_at: number | null;
}

export const commitSessionTableName = "commit_sessions";

export type CommitSessionRow = Selectable<CommitSessionTable>;
export type NewCommitSessionRow = Insertable<CommitSessionTable>;

export interface PartialDB {
  [commitSessionTableName]: CommitSessionTable;
}
