import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** A `timestamptz` column: read as `Date`, written as `Date` or an ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A `timestamptz` column with a database default. */
export type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * One conversation (seed 004 `state.db` sessions). Routing columns (`source` .. `thread_id`) identify
 * the peer the gateway talks to; `end_reason` is written once (first writer wins) and cleared only by
 * a reopen; the counters are bumped in the same transaction as the message insert.
 */
export interface SessionTable {
  id: string;
  /** Platform or origin: `telegram`, `discord`, `web`, `cli`, ... */
  source: string;
  user_id: string | null;
  session_key: string | null;
  chat_id: string | null;
  chat_type: string | null;
  thread_id: string | null;
  title: string | null;
  model: string | null;
  /** The session this one continues (compression, branch). */
  parent_session_id: string | null;
  started_at: GeneratedTimestamp;
  ended_at: Timestamp | null;
  end_reason: string | null;
  message_count: Generated<number>;
  tool_call_count: Generated<number>;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cost_usd: Generated<number>;
  pinned: Generated<boolean>;
  archived: Generated<boolean>;
  /** Soft delete: a deleted session frees its title and disappears from lists and recovery. */
  deleted_at: Timestamp | null;
  project_id: string | null;
  profile: string | null;
  updated_at: GeneratedTimestamp;
}

export const sessionTableName = "sessions";

export type SessionRow = Selectable<SessionTable>;
export type NewSessionRow = Insertable<SessionTable>;
export type SessionUpdate = Updateable<SessionTable>;

export interface PartialDB {
  [sessionTableName]: SessionTable;
}
