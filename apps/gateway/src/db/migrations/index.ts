import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Kysely, Migration } from "kysely";
import * as m001 from "./001-restart-state.js";

/** Every migration of the gateway's own tables, in order. Add entries; never edit a shipped one. */
export const gatewayMigrations: Record<string, Migration> = {
  "001-restart-state": m001,
};

/** Bookkeeping tables of {@link gatewayMigrations}; fixed forever. */
export const GATEWAY_MIGRATION_TABLE = "engram_gateway_migration";
export const GATEWAY_MIGRATION_LOCK_TABLE = "engram_gateway_migration_lock";

/** Applies the gateway's pending migrations (idempotent; safe when processes start together). */
export function migrateGateway<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: gatewayMigrations,
    migrationTableName: GATEWAY_MIGRATION_TABLE,
    migrationLockTableName: GATEWAY_MIGRATION_LOCK_TABLE,
  });
}
