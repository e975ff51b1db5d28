import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Kysely, type Migration, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { createDatabase } from "./database.js";
import { MigrationFailedError } from "./migration-failed-error.js";
import { STORE_MIGRATION_TABLE, storeMigrations } from "./migrations/index.js";
import { migrateStore, migrateToLatest } from "./migrator.js";

const run = promisify(execFile);

function table(name: string): Migration {
  return {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable(name)
        .addColumn("id", "integer", (c) => c.primaryKey())
        .execute();
    },
  };
}

async function tableNames(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = current_schema() order by tablename
  `.execute(db);
  return rows.map((row) => row.name);
}

for (const backend of testBackends()) {
  describe(`migrateToLatest [${backend.name}]`, () => {
    it("applies the store migrations once and does nothing on a second run", async () => {
      await using database = await createTestDatabase(backend, { migrate: false });
      const first = await migrateStore(database.db);
      expect(first.applied).toEqual(Object.keys(storeMigrations));
      expect(first.results.every((result) => result.status === "Success")).toBe(true);
      const second = await migrateStore(database.db);
      expect(second.applied).toEqual([]);
      expect(await tableNames(database.db as Kysely<unknown>)).toEqual(
        expect.arrayContaining(["sessions", "messages", STORE_MIGRATION_TABLE]),
      );
    });

    it("keeps separate bookkeeping per migration set in one schema", async () => {
      await using database = await createTestDatabase(backend);
      const plugin = await migrateToLatest(database.db, {
        migrations: { "001-facts": table("plugin_facts") },
        migrationTableName: "plugin_x_migration",
        migrationLockTableName: "plugin_x_migration_lock",
      });
      expect(plugin.applied).toEqual(["001-facts"]);
      expect((await migrateStore(database.db)).applied).toEqual([]);
      const later = await migrateToLatest(database.db, {
        migrations: { "001-facts": table("plugin_facts"), "002-more": table("plugin_more") },
        migrationTableName: "plugin_x_migration",
        migrationLockTableName: "plugin_x_migration_lock",
      });
      expect(later.applied).toEqual(["002-more"]);
    });

    it("reports the failed migration with per-migration results and rolls the run back", async () => {
      await using database = await createTestDatabase(backend, { migrate: false });
      const failing = migrateToLatest(database.db, {
        migrations: {
          "001-ok": table("first_ok"),
          "002-broken": {
            up: async (db: Kysely<unknown>) => void (await sql`select * from missing_table`.execute(db)),
          },
          "003-never": table("never"),
        },
        migrationTableName: "broken_migration",
        migrationLockTableName: "broken_migration_lock",
      });
      const error = await failing.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MigrationFailedError);
      const failed = error as MigrationFailedError;
      expect(failed.code).toBe("MIGRATION_FAILED");
      expect(failed.failedMigration).toBe("002-broken");
      expect(failed.results.map((result) => [result.migrationName, result.status])).toEqual([
        ["001-ok", "Success"],
        ["002-broken", "Error"],
        ["003-never", "NotExecuted"],
      ]);
      // One transaction: the successful first migration was rolled back with the failure.
      expect(await tableNames(database.db as Kysely<unknown>)).not.toContain("first_ok");
    });
  });
}

const postgres = testBackends().find((backend) => backend.name === "postgres");

describe.skipIf(!postgres)("migrateToLatest across processes [postgres]", () => {
  it("lets two processes that start at once apply each migration exactly once", async () => {
    const url = postgres?.name === "postgres" ? postgres.url : "";
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const child = fileURLToPath(new URL("./test-support/migrate-child.ts", import.meta.url));
    const startAt = String(Date.now() + 4000);
    try {
      const outputs = await Promise.all(
        [0, 1].map(() =>
          // cwd = the package, so `--import tsx` resolves this package's devDependency.
          run(process.execPath, ["--import", "tsx", child, url, schema, startAt], {
            timeout: 30_000,
            cwd: fileURLToPath(new URL("../..", import.meta.url)),
          }),
        ),
      );
      const applied = outputs.map(
        (output) => (JSON.parse(output.stdout.trim()) as { applied: string[] }).applied,
      );
      // One process did all the work; the other waited on the lock and found nothing pending.
      expect(applied.map((names) => names.length).sort()).toEqual([0, 2]);
      expect(applied.flat()).toEqual(["001-first", "002-second"]);
      await using database = await createDatabase({ url, schema });
      const { rows } = await sql<{ name: string }>`select name from race_migration order by name`.execute(
        database.db,
      );
      expect(rows.map((row) => row.name)).toEqual(["001-first", "002-second"]);
    } finally {
      await using cleanup = await createDatabase({ url });
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(cleanup.db);
    }
  });
});

describe.skipIf(!postgres)("migrateToLatest beside other sessions' schema drops [postgres]", () => {
  it("migrates a fresh schema while other schemas with tables are dropped at the same time", async () => {
    const url = postgres?.name === "postgres" ? postgres.url : "";
    await using admin = await createDatabase({ url, maxConnections: 4 });
    for (let round = 0; round < 6; round++) {
      // Schemas with a table each, so the migrator's all-schema table scan sees them...
      const doomed = Array.from({ length: 6 }, () => `t_${randomBytes(6).toString("hex")}`);
      for (const name of doomed) {
        await sql
          .raw(`create schema ${name}; create table ${name}.t (id serial primary key)`)
          .execute(admin.db);
      }
      const schema = `t_${randomBytes(6).toString("hex")}`;
      await using target = await createDatabase({ url, schema });
      // ...and vanish while it runs.
      const [outcome] = await Promise.all([
        migrateStore(target.db),
        ...doomed.map((name) => sql.raw(`drop schema ${name} cascade`).execute(admin.db)),
      ]);
      expect(outcome.applied).toEqual(Object.keys(storeMigrations));
      await sql.raw(`drop schema ${schema} cascade`).execute(admin.db);
    }
  });
});
