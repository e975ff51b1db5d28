import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";
import type { Jsonb } from "./messages.js";
import type { Timestamp } from "./sessions.js";

/** A `bigint` column read as a number (the pool's int8 parser) and written as a number. */
type Int8 = ColumnType<number, number | undefined, number>;

/**
 * One gateway routing key and the session it currently routes to (seed 004 `sessions.json`), with the
 * per-key flags the router consumes. One row per key; every flag is its own column so concurrent
 * routers update different flags with column-level UPDATEs and never overwrite each other.
 */
export interface RoutingEntryTable {
  session_key: string;
  session_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** `SessionSourceRecord` (snake_case wire shape) of the key's origin. */
  origin: Jsonb;
  display_name: string | null;
  platform: string | null;
  chat_type: Generated<string>;
  last_prompt_tokens: Int8;
  was_auto_reset: Generated<boolean>;
  auto_reset_reason: string | null;
  reset_had_activity: Generated<boolean>;
  is_fresh_reset: Generated<boolean>;
  expiry_finalized: Generated<boolean>;
  suspended: Generated<boolean>;
  resume_pending: Generated<boolean>;
  resume_reason: string | null;
  resume_marked_at: Timestamp | null;
  /** `{ model?, provider?, baseUrl? }` only; a CHECK constraint rejects any other key (credentials). */
  model_override: Jsonb;
}

export const routingEntryTableName = "routing_entries";

export type RoutingEntryRow = Selectable<RoutingEntryTable>;
export type NewRoutingEntryRow = Insertable<RoutingEntryTable>;
export type RoutingEntryUpdate = Updateable<RoutingEntryTable>;

export interface PartialDB {
  [routingEntryTableName]: RoutingEntryTable;
}
