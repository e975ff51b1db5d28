import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Kysely, Migration } from "kysely";
import * as m001 from "./001-holographic.js";
import * as m002 from "./002-memory-scopes.js";

/** Every migration of the holographic plugin, in order. Add entries; never edit a shipped one. */
export const holographicMigrations: Record<string, Migration> = {
  "001-holographic": m001,
  "002-memory-scopes": m002,
};

/** Bookkeeping tables of {@link holographicMigrations}; fixed forever. */
export const HOLOGRAPHIC_MIGRATION_TABLE = "engram_holographic_migration";
export const HOLOGRAPHIC_MIGRATION_LOCK_TABLE = "engram_holographic_migration_lock";

/** Applies the plugin's pending migrations (idempotent; safe when processes start together). */
export function migrateHolographic<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: holographicMigrations,
    migrationTableName: HOLOGRAPHIC_MIGRATION_TABLE,
    migrationLockTableName: HOLOGRAPHIC_MIGRATION_LOCK_TABLE,
  });
}
