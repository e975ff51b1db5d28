import { performance } from "node:perf_hooks";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DB } from "../db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "./create-test-database.js";
import { describeEachBackend } from "./describe-each-backend.js";
import { testBackends } from "./test-backends.js";
import { truncateAll } from "./truncate-all.js";

async function insertSession(db: Kysely<DB>, id: string): Promise<void> {
  await db.insertInto("sessions").values({ id, source: "cli" }).execute();
}

async function sessionIds(db: Kysely<DB>): Promise<string[]> {
  const rows = await db.selectFrom("sessions").select("id").orderBy("id").execute();
  return rows.map((row) => row.id);
}

for (const backend of testBackends()) {
  describe(`createTestDatabase [${backend.name}]`, () => {
    let a: TestDatabase;
    let b: TestDatabase;
    beforeAll(async () => {
      const started = performance.now();
      a = await createTestDatabase(backend);
      const first = performance.now();
      b = await createTestDatabase(backend);
      const second = performance.now();
      // Informational (never asserted): how long an isolated, migrated database takes to get.
      console.info(
        `[harness] ${backend.name}: first database ${Math.round(first - started)} ms, second ${Math.round(second - first)} ms`,
      );
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it("gives each database its own state", async () => {
      await insertSession(a.db, "only-in-a");
      expect(await sessionIds(a.db)).toEqual(["only-in-a"]);
      expect(await sessionIds(b.db)).toEqual([]);
    });

    it("truncateAll empties tables, restarts ids and keeps the schema migrated", async () => {
      await insertSession(a.db, "s1");
      await a.db.insertInto("messages").values({ session_id: "s1", role: "user", content: "hi" }).execute();
      await truncateAll(a.db);
      expect(await sessionIds(a.db)).toEqual([]);
      await insertSession(a.db, "s2");
      const inserted = await a.db
        .insertInto("messages")
        .values({ session_id: "s2", role: "user", content: "again" })
        .returning("id")
        .executeTakeFirstOrThrow();
      expect(inserted.id).toBe(1);
      const { rows } = await sql<{ n: number }>`select count(*) as n from engram_store_migration`.execute(
        a.db,
      );
      expect(rows[0]?.n).toBeGreaterThan(0);
    });
  });
}

if (testBackends().some((backend) => backend.name === "postgres")) {
  describe("createTestDatabase [postgres] cleanup", () => {
    it("drops its schema on close", async () => {
      const backend = testBackends().find((candidate) => candidate.name === "postgres")!;
      const database = await createTestDatabase(backend, { migrate: false });
      const schema = database.schema;
      expect(schema).toMatch(/^t_[0-9a-f]{12}$/);
      const probe = await createTestDatabase(backend, { migrate: false });
      try {
        await database.close();
        const { rows } = await sql<{ n: number }>`
          select count(*) as n from information_schema.schemata where schema_name = ${schema}
        `.execute(probe.db);
        expect(rows[0]?.n).toBe(0);
      } finally {
        await probe.close();
      }
    });
  });
}

describeEachBackend("describeEachBackend", (getDb) => {
  const { db, backend } = getDb;
  it("opens a migrated database before the tests", async () => {
    await insertSession(db(), `x-${backend.name}`);
    expect(await sessionIds(db())).toEqual([`x-${backend.name}`]);
  });

  it("empties the tables before each test", async () => {
    expect(await sessionIds(getDb())).toEqual([]);
  });
});
