import { type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Kysely, Migration } from "kysely";
import * as m001 from "./001-telegram-update-offsets.js";

/** Every migration of the Telegram adapter, in order. Add entries; never edit a shipped one. */
export const telegramMigrations: Record<string, Migration> = {
  "001-telegram-update-offsets": m001,
};

/** Bookkeeping tables of {@link telegramMigrations}; fixed forever. */
export const TELEGRAM_MIGRATION_TABLE = "engram_adapter_telegram_migration";
export const TELEGRAM_MIGRATION_LOCK_TABLE = "engram_adapter_telegram_migration_lock";

/** Applies the adapter's pending migrations (idempotent; safe when processes start together). */
export function migrateTelegram<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: telegramMigrations,
    migrationTableName: TELEGRAM_MIGRATION_TABLE,
    migrationLockTableName: TELEGRAM_MIGRATION_LOCK_TABLE,
  });
}
