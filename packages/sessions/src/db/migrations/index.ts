import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Kysely, Migration } from "kysely";
import * as m001 from "./001-restart-state.js";
import * as m002 from "./002-session-commits.js";

/** Every migration of the session runtime's own tables, in order. Add entries; never edit a shipped one. */
export const sessionsMigrations: Record<string, Migration> = {
  "001-restart-state": m001,
  "002-session-commits": m002,
};

/** Bookkeeping tables of {@link sessionsMigrations}; fixed forever. */
export const SESSIONS_MIGRATION_TABLE = "engram_sessions_migration";
export const SESSIONS_MIGRATION_LOCK_TABLE = "engram_sessions_migration_lock";

/**
 * Applies the session runtime's pending migrations (idempotent; safe when processes start together).
 * A database the gateway migrated before the move keeps its tables and rows (see 001).
 */
export function migrateSessions<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: sessionsMigrations,
    migrationTableName: SESSIONS_MIGRATION_TABLE,
    migrationLockTableName: SESSIONS_MIGRATION_LOCK_TABLE,
  });
}
