import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Kysely, Migration } from "kysely";
import * as m001 from "./001-session-buffer.js";

/** Every migration of the session buffer's tables, in order. Add entries; never edit a shipped one. */
export const sessionBufferMigrations: Record<string, Migration> = {
  "001-session-buffer": m001,
};

/** Bookkeeping tables of {@link sessionBufferMigrations}; fixed forever. */
export const SESSION_BUFFER_MIGRATION_TABLE = "engram_session_buffer_migration";
export const SESSION_BUFFER_MIGRATION_LOCK_TABLE = "engram_session_buffer_migration_lock";

/** Applies the session buffer's pending migrations (idempotent; safe when processes start together). */
export function migrateSessionBuffer<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: sessionBufferMigrations,
    migrationTableName: SESSION_BUFFER_MIGRATION_TABLE,
    migrationLockTableName: SESSION_BUFFER_MIGRATION_LOCK_TABLE,
  });
}
