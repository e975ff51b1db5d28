import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { testBackends } from "../testing/test-backends.js";
import { createDatabase } from "./database.js";

const postgres = testBackends().find((backend) => backend.name === "postgres");

describe("createDatabase on PGlite", () => {
  it("opens an in-memory database that answers queries and reports its backend", async () => {
    await using database = await createDatabase({ memory: true });
    expect(database.backend).toBe("pglite");
    expect(database.schema).toBe("public");
    const { rows } = await sql<{ n: number }>`select 40 + 2 as n`.execute(database.db);
    expect(rows[0]?.n).toBe(42);
  });

  it("persists data in dataDir across a close and a reopen", async () => {
    const dir = await mkdtemp(join(tmpdir(), "engram-store-"));
    try {
      const first = await createDatabase({ dataDir: join(dir, "data") });
      await sql`create table kept (v text)`.execute(first.db);
      await sql`insert into kept values ('still here')`.execute(first.db);
      await first.close();
      await using second = await createDatabase({ dataDir: join(dir, "data") });
      const { rows } = await sql<{ v: string }>`select v from kept`.execute(second.db);
      expect(rows).toEqual([{ v: "still here" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs every query in the requested schema", async () => {
    await using database = await createDatabase({ memory: true, schema: "tenant_a" });
    await sql`create table t (v int)`.execute(database.db);
    const { rows } = await sql<{ schema: string }>`
      select table_schema as schema from information_schema.tables where table_name = 't'
    `.execute(database.db);
    expect(rows).toEqual([{ schema: "tenant_a" }]);
  });

  it("rejects a schema name that would need quoting", async () => {
    await expect(createDatabase({ memory: true, schema: 'x"; drop' })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("closes idempotently, including a PGlite no query ever touched", async () => {
    const database = await createDatabase({ memory: true });
    await database.close();
    await database.close();
    expect(database.pglite?.closed).toBe(true);
  });
});

describe.skipIf(!postgres)("createDatabase on Postgres", () => {
  const url = postgres?.name === "postgres" ? postgres.url : "";

  it("survives an idle pooled connection being killed and reports it to onPoolError", async () => {
    const errors: Error[] = [];
    await using database = await createDatabase({
      url,
      maxConnections: 1,
      onPoolError: (e) => errors.push(e),
    });
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db);
    await using killer = await createDatabase({ url, maxConnections: 1 });
    await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(killer.db);
    for (let i = 0; i < 50 && errors.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors.length).toBeGreaterThan(0);
    const again = await sql<{ n: number }>`select 1 as n`.execute(database.db);
    expect(again.rows).toEqual([{ n: 1 }]);
  });

  it("opens a pool, isolates by schema and returns int8 as numbers like PGlite", async () => {
    const schemaA = `t_${randomBytes(5).toString("hex")}`;
    const schemaB = `t_${randomBytes(5).toString("hex")}`;
    const a = await createDatabase({ url, schema: schemaA });
    const b = await createDatabase({ url, schema: schemaB });
    try {
      expect(a.backend).toBe("postgres");
      await sql`create table t (id bigserial primary key, v text)`.execute(a.db);
      await sql`create table t (id bigserial primary key, v text)`.execute(b.db);
      await sql`insert into t (v) values ('a')`.execute(a.db);
      // Many pooled connections, every one pinned to its schema.
      const counts = await Promise.all(
        Array.from({ length: 12 }, () => sql<{ n: number }>`select count(*) as n from t`.execute(b.db)),
      );
      expect(counts.map((result) => result.rows[0]?.n)).toEqual(Array(12).fill(0));
      const { rows } = await sql<{ id: number; n: number }>`
        select id, (select count(*) from t) as n from t
      `.execute(a.db);
      expect(rows).toEqual([{ id: 1, n: 1 }]);
    } finally {
      await sql`drop schema ${sql.id(schemaA)} cascade`.execute(a.db);
      await sql`drop schema ${sql.id(schemaB)} cascade`.execute(b.db);
      await a.close();
      await b.close();
    }
  });
});
