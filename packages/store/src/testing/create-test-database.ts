import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import pg from "pg";
import { createDatabase, type Database } from "../db/database.js";
import { migrateStore } from "../db/migrator.js";
import type { DB } from "../db/schema/index.js";
import { pgliteTemplate } from "./pglite-template.js";
import type { TestBackend } from "./test-backends.js";

export interface CreateTestDatabaseProps<T = DB> {
  /** Apply `@engram/store`'s migrations (default true). */
  readonly migrate?: boolean;
  /** Runs after the store migrations, e.g. a plugin's own `migrateToLatest`. */
  readonly setup?: (db: Kysely<T>) => Promise<unknown>;
  /** Postgres pool size (default 10). */
  readonly maxConnections?: number;
}

/** A database of its own for one test file; `close()` releases it and, on Postgres, drops its schema. */
export interface TestDatabase<T = DB> extends Database<T> {
  readonly testBackend: TestBackend;
}

/**
 * A fresh, isolated database state on `backend`. Postgres: a new schema `t_<random>` on the shared
 * server (dropped by `close()`), so files and processes never see each other's rows. PGlite: a new
 * in-memory instance cloned from a cached template cluster (about 0.5 s instead of seconds of initdb).
 */
export async function createTestDatabase<T = DB>(
  backend: TestBackend,
  props: CreateTestDatabaseProps<T> = {},
): Promise<TestDatabase<T>> {
  let database: Database<T>;
  let dropSchema: (() => Promise<void>) | undefined;
  if (backend.name === "postgres") {
    const schema = `t_${randomBytes(6).toString("hex")}`;
    database = await createDatabase<T>({
      url: backend.url,
      schema,
      ...(props.maxConnections === undefined ? {} : { maxConnections: props.maxConnections }),
    });
    dropSchema = () => dropServerSchema(backend.url, schema);
  } else {
    database = await createDatabase<T>({ pgliteTemplate: await pgliteTemplate() });
  }
  try {
    if (props.migrate ?? true) await migrateStore(database.db);
    await props.setup?.(database.db);
  } catch (error) {
    await database.close();
    await dropSchema?.();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await database.close();
      await dropSchema?.();
    })();
    return closing;
  };
  return { ...database, testBackend: backend, close, [Symbol.asyncDispose]: close };
}

async function dropServerSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // `schema` is generated above from hex digits; no quoting needed.
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
