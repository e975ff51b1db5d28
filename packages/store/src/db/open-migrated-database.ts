import { type CreateDatabaseProps, createDatabase, type Database } from "./database.js";
import { databaseUnavailableFrom } from "./database-unavailable-error.js";
import { migrateStore } from "./migrator.js";

/**
 * What a host does at start: opens its database ({@link createDatabase}) and applies the store's
 * migrations. A Postgres server that cannot be used comes out as a `DatabaseUnavailableError` naming
 * `DATABASE_URL` (the pool connects lazily, so that shows only at the first query, here); a PGlite
 * folder another process owns as `DataDirLockedError`. Nothing is left open when it throws.
 */
export async function openMigratedDatabase(props: CreateDatabaseProps): Promise<Database> {
  const explained = (error: unknown) =>
    (props.url ? databaseUnavailableFrom(error, props.url) : undefined) ?? error;
  let database: Database;
  try {
    database = await createDatabase(props);
  } catch (error) {
    throw explained(error);
  }
  try {
    await migrateStore(database.db);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw explained(error);
  }
  return database;
}
