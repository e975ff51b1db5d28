import type { Generated, Insertable, Selectable } from "kysely";

/**
 * Commit-ledger state of one session (seed 000): the generation counter (one per completed turn),
 * the committed watermark, the open tail segment and the in-flight lease. Times are epoch ms from
 * the ledger's clock.
 */
export interface CommitSessionTable {
  session_id: string;
  /** Last generation handed out; never reused. */
  generation: Generated<number>;
  /** Every generation <= this one is committed. */
  committed: Generated<number>;
  /** First generation of the open tail segment (`tail_start..generation`); null when clean. */
  tail_start: number | null;
  /** Owner of the open tail (both null: nobody yet). */
  tail_instance: string | null;
  tail_agent: string | null;
  /** Rows of `commit_segments` (closed, uncommitted segments before the tail) of this session. */
  closed_count: Generated<number>;
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
