import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Kysely, Migration } from "kysely";
import * as m001 from "./001-hindsight-server.js";
import * as m002 from "./002-bank-profiles.js";

/** Every migration of the stand-in Hindsight server, in order. Add entries; never edit a shipped one. */
export const hindsightServerMigrations: Record<string, Migration> = {
  "001-hindsight-server": m001,
  "002-bank-profiles": m002,
};

/** Bookkeeping tables of {@link hindsightServerMigrations}; fixed forever. */
export const HINDSIGHT_SERVER_MIGRATION_TABLE = "engram_hindsight_server_migration";
export const HINDSIGHT_SERVER_MIGRATION_LOCK_TABLE = "engram_hindsight_server_migration_lock";

/** Applies the server's pending migrations (idempotent; safe when processes start together). */
export function migrateHindsightServer<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: hindsightServerMigrations,
    migrationTableName: HINDSIGHT_SERVER_MIGRATION_TABLE,
    migrationLockTableName: HINDSIGHT_SERVER_MIGRATION_LOCK_TABLE,
  });
}
