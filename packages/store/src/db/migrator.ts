import { type Kysely, type Migration, type MigrationResult, Migrator } from "kysely";
import { currentSchema } from "./database.js";
import { MigrationFailedError } from "./migration-failed-error.js";
import { STORE_MIGRATION_LOCK_TABLE, STORE_MIGRATION_TABLE, storeMigrations } from "./migrations/index.js";

export interface MigrateProps {
  /** The package's migrations keyed by name; applied in key order. */
  readonly migrations: Readonly<Record<string, Migration>>;
  /** Bookkeeping table of this migration set; one per package, fixed forever. */
  readonly migrationTableName: string;
  /** Lock-row table of this migration set; one per package, fixed forever. */
  readonly migrationLockTableName: string;
}

export interface MigrateOutcome {
  /** One entry per migration applied by this call (empty when already up to date). */
  readonly results: readonly MigrationResult[];
  /** Names applied by this call, in order. */
  readonly applied: readonly string[];
}

/**
 * Applies every pending migration of one set, in order. Idempotent: an up-to-date database is left
 * alone. Safe when several processes start at once: Kysely's Migrator takes a Postgres advisory lock
 * and runs the pending migrations in one transaction, so the loser of the race waits, then sees them
 * applied and does nothing. Bookkeeping tables live in the connection's current schema.
 *
 * @throws MigrationFailedError (code `MIGRATION_FAILED`) with the per-migration results; on Postgres
 * and PGlite the failed run's migrations are rolled back together.
 */
export async function migrateToLatest<T>(db: Kysely<T>, props: MigrateProps): Promise<MigrateOutcome> {
  const anyDb = db as unknown as Kysely<unknown>;
  // Kysely's "does the migration table exist" check looks across all schemas; pin the bookkeeping
  // tables to the schema this connection writes to, or a second schema on the same server would skip
  // creating its own.
  const schema = await currentSchema(anyDb);
  const migrations = props.migrations;
  const migrator = new Migrator({
    db: anyDb,
    provider: { getMigrations: async () => ({ ...migrations }) },
    migrationTableName: props.migrationTableName,
    migrationLockTableName: props.migrationLockTableName,
    migrationTableSchema: schema,
  });
  let outcome = await migrator.migrateToLatest();
  // That all-schema look fails when another session drops a schema mid-scan ("schema ... does not
  // exist", 3F000, naming a schema that is not ours): a race with someone else's cleanup, nothing
  // ran yet. Look again.
  for (let attempt = 1; attempt <= 5 && isOtherSchemaGone(outcome.error, schema); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    outcome = await migrator.migrateToLatest();
  }
  const { error, results = [] } = outcome;
  if (error !== undefined) throw new MigrationFailedError(props.migrationTableName, results, error);
  return {
    results,
    applied: results.filter((result) => result.status === "Success").map((result) => result.migrationName),
  };
}

function isOtherSchemaGone(error: unknown, ours: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "3F000" && typeof message === "string" && !message.includes(`"${ours}"`);
}

/** Applies `@engram/store`'s own migrations (see {@link storeMigrations}). */
export function migrateStore<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: storeMigrations,
    migrationTableName: STORE_MIGRATION_TABLE,
    migrationLockTableName: STORE_MIGRATION_LOCK_TABLE,
  });
}
