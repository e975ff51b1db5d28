import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { testBackends } from "../testing/test-backends.js";
import { DATA_DIR_LOCK_FILE } from "./data-dir-lock.js";
import { createDatabase } from "./database.js";
import { startDataDirChild } from "./test-support/data-dir-child-process.js";

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

  it("refuses a data folder another process has open before touching it, and takes it over once that process is killed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "engram-store-"));
    const data = join(dir, "data");
    const first = startDataDirChild(["database", data, "first"]);
    try {
      expect(await first.next()).toEqual({ ready: true, values: ["first"] });
      const before = snapshot(data);
      await expect(createDatabase({ dataDir: data })).rejects.toMatchObject({
        code: "DATA_DIR_LOCKED",
        details: { dataDir: data, owner: { pid: first.pid } },
      });
      // Not a file of the owner's database was read into a second PGlite or written.
      expect(snapshot(data)).toEqual(before);
      expect(await first.finish()).toBe(0);

      const second = startDataDirChild(["database", data, "second"]);
      expect(await second.next()).toEqual({ ready: true, values: ["first", "second"] });
      await second.kill();
      expect(readdirSync(data)).toContain(DATA_DIR_LOCK_FILE);
      await using reopened = await createDatabase({ dataDir: data });
      const { rows } = await sql<{ v: string }>`select v from kept order by v`.execute(reopened.db);
      expect(rows.map((row) => row.v)).toEqual(["first", "second"]);
    } finally {
      await first.kill();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("releases the data folder on close, so the same process can open it again", async () => {
    const dir = await mkdtemp(join(tmpdir(), "engram-store-"));
    try {
      const first = await createDatabase({ dataDir: dir });
      await expect(createDatabase({ dataDir: dir })).rejects.toMatchObject({ code: "DATA_DIR_LOCKED" });
      await first.close();
      expect(readdirSync(dir)).not.toContain(DATA_DIR_LOCK_FILE);
      await using again = await createDatabase({ dataDir: dir });
      expect(again.backend).toBe("pglite");
      expect(readdirSync(dir)).toContain(DATA_DIR_LOCK_FILE);
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

/** Every file under `dir` with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const stat = statSync(path);
    files[path] = `${stat.size}@${stat.mtimeMs}`;
  }
  return files;
}

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
