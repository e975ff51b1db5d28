// Child process for the "two processes migrate at once" test: opens its own pool, waits for a shared
// start instant (argv[4], epoch ms) so both processes hit the migrator together, and prints the outcome.
import { type Kysely, sql } from "kysely";
import { createDatabase } from "../database.js";
import { migrateToLatest } from "../migrator.js";

const [url, schema, startAtText] = process.argv.slice(2);
if (!url || !schema || !startAtText) throw new Error("usage: migrate-child <url> <schema> <startAt>");

const database = await createDatabase({ url, schema });
try {
  await database.db.selectNoFrom(sql<number>`1`.as("one")).execute(); // connect before the barrier
  const wait = Number(startAtText) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const outcome = await migrateToLatest(database.db, {
    migrations: {
      "001-first": {
        up: async (db: Kysely<unknown>) => {
          await db.schema
            .createTable("race_first")
            .addColumn("id", "integer", (c) => c.primaryKey())
            .execute();
          // Hold the lock long enough for the other process to arrive and wait on it.
          await sql`select pg_sleep(0.5)`.execute(db);
        },
      },
      "002-second": {
        up: async (db: Kysely<unknown>) => {
          await db.schema
            .createTable("race_second")
            .addColumn("id", "integer", (c) => c.primaryKey())
            .execute();
        },
      },
    },
    migrationTableName: "race_migration",
    migrationLockTableName: "race_migration_lock",
  });
  process.stdout.write(`${JSON.stringify({ applied: outcome.applied })}\n`);
} finally {
  await database.close();
}
