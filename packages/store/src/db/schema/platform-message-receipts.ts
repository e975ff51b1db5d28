import type { Insertable, Selectable } from "kysely";
import type { GeneratedTimestamp } from "./sessions.js";

/**
 * The first delivery of a platform message id on a session key: the primary key
 * `(session_key, platform_message_id)` is what makes an id unique over all of a key's sessions, across
 * processes. Written in the same transaction as the user message it records; copies of a transcript
 * (`replaceMessages`) write none. Deleted with its session when that is pruned (foreign key cascade).
 */
export interface PlatformMessageReceiptTable {
  session_key: string;
  platform_message_id: string;
  /** The session the message was stored in. */
  session_id: string;
  /** The `messages.id` it was stored under (no foreign key: a replaced transcript keeps the receipt). */
  message_id: number;
  received_at: GeneratedTimestamp;
}

export const platformMessageReceiptTableName = "platform_message_receipts";

export type PlatformMessageReceiptRow = Selectable<PlatformMessageReceiptTable>;
export type NewPlatformMessageReceiptRow = Insertable<PlatformMessageReceiptTable>;

export interface PartialDB {
  [platformMessageReceiptTableName]: PlatformMessageReceiptTable;
}
