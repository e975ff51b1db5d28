/**
 * The tables `@engram/store` owns. Each table file exports its row type, `tableName` and a `PartialDB`;
 * `DB` is their intersection. Other packages compose their own `DB` and never import these.
 */
import type { PartialDB as MessagesDB } from "./messages.js";
import type { PartialDB as SessionsDB } from "./sessions.js";

export type DB = SessionsDB & MessagesDB;

export type { Jsonb, MessageRow, MessageTable, NewMessageRow } from "./messages.js";
export { messageTableName } from "./messages.js";
export type {
  GeneratedTimestamp,
  NewSessionRow,
  SessionRow,
  SessionTable,
  SessionUpdate,
  Timestamp,
} from "./sessions.js";
export { sessionTableName } from "./sessions.js";
