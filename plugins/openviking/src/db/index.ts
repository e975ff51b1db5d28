import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Generated, Kysely, Migration } from "kysely";
import * as m001 from "./001-openviking-pending-commits.js";

/** Every migration of the OpenViking plugin, in order. Add entries; never edit a shipped one. */
export const openVikingMigrations: Record<string, Migration> = {
  "001-openviking-pending-commits": m001,
};

/** Bookkeeping tables of {@link openVikingMigrations}; fixed forever. */
export const OPENVIKING_MIGRATION_TABLE = "engram_openviking_migration";
export const OPENVIKING_MIGRATION_LOCK_TABLE = "engram_openviking_migration_lock";

/** Applies the plugin's pending migrations (idempotent; safe when processes start together). */
export function migrateOpenViking<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: openVikingMigrations,
    migrationTableName: OPENVIKING_MIGRATION_TABLE,
    migrationLockTableName: OPENVIKING_MIGRATION_LOCK_TABLE,
  });
}

export interface OpenVikingPendingCommitsTable {
  server_url: string;
  session_id: string;
  instance_id: string;
  sequence: string | number;
  synced_at: Generated<Date>;
}

/** The plugin's tables, as Kysely sees them. */
export interface OpenVikingDB {
  openviking_pending_commits: OpenVikingPendingCommitsTable;
}
