/** The tables `@engram/session-buffer` owns; `SessionBufferDB` is their intersection. */
import type { PartialDB as SessionArchivesDB } from "./session-archives.js";
import type { PartialDB as SessionStatesDB } from "./session-states.js";

export type SessionBufferDB = SessionArchivesDB & SessionStatesDB;

export type { NewSessionArchiveRow, SessionArchiveRow, SessionArchiveTable } from "./session-archives.js";
export { sessionArchiveTableName } from "./session-archives.js";
export type { NewSessionStateRow, SessionStateRow, SessionStateTable } from "./session-states.js";
export { sessionStateTableName } from "./session-states.js";

import type { Kysely } from "kysely";

/**
 * The session buffer's view of a database that other packages' tables share (Kysely's types are
 * invariant in the table map, so `Kysely<StoreDB>` is not a `Kysely<SessionBufferDB>`). Only a typing
 * step: the tables must exist, i.e. `migrateSessionBuffer` has run on `db`.
 */
export function sessionBufferTables<T>(db: Kysely<T>): Kysely<SessionBufferDB> {
  return db as unknown as Kysely<SessionBufferDB>;
}
