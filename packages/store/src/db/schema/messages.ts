import type { ColumnType, Generated, Insertable, Selectable } from "kysely";
import type { GeneratedTimestamp } from "./sessions.js";

/** A `jsonb` column: read as parsed JSON, written as a JSON string (see `jsonb()` in the stores). */
export type Jsonb = ColumnType<unknown, string | null, string | null>;

/**
 * One transcript entry. `id` (bigserial) is the order of the transcript. Rows are never deleted by
 * undo/rewind: `active = false` hides them from prompts and search but keeps them for audit.
 */
export interface MessageTable {
  id: Generated<number>;
  session_id: string;
  role: string;
  /** Plain text of the message (what full-text search indexes). */
  content: string | null;
  /** Structured content parts (text, images, ...), when the message has them. */
  parts: Jsonb;
  tool_name: string | null;
  tool_calls: Jsonb;
  tool_results: Jsonb;
  tool_call_id: string | null;
  reasoning: string | null;
  reasoning_details: Jsonb;
  /**
   * Platform-side message id; unique per session. The dedupe key for redelivered messages, made unique
   * per session key by `platform_message_receipts`.
   */
  platform_message_id: string | null;
  observed: Generated<boolean>;
  active: Generated<boolean>;
  compacted: Generated<boolean>;
  created_at: GeneratedTimestamp;
  /** Generated `tsvector` over `content`; never written. */
  search: ColumnType<string, never, never>;
}

export const messageTableName = "messages";

export type MessageRow = Selectable<MessageTable>;
export type NewMessageRow = Insertable<MessageTable>;

export interface PartialDB {
  [messageTableName]: MessageTable;
}
