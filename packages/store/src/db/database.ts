import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { InMemorySessionKeyLock, InvalidArgumentError, type SessionKeyLock } from "@engram/core";
import { Kysely, PostgresDialect, sql } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.js";
import { PostgresNotificationListener, quoteIdentifier } from "./postgres-notification-listener.js";
import { PostgresSessionKeyLock } from "./postgres-session-key-lock.js";
import type { DB } from "./schema/index.js";

/** Which engine a {@link Database} talks to. Both speak the same SQL; one dialect, one set of migrations. */
export type DatabaseBackend = "postgres" | "pglite";

/** Where the zero-setup PGlite data lives when neither `url`, `dataDir` nor `memory` is given. */
export const DEFAULT_PGLITE_DATA_DIR = "./.engram/data";

export interface CreateDatabaseProps {
  /** PostgreSQL connection string. When set, a `pg` pool is used and the PGlite options are ignored. */
  readonly url?: string;
  /**
   * PGlite data folder (created when missing). Defaults to {@link DEFAULT_PGLITE_DATA_DIR}. One
   * process owns a folder while the database is open (see {@link lockDataDir}); another process that
   * opens it is refused before PGlite touches it.
   */
  readonly dataDir?: string;
  /** Run PGlite in memory (nothing persisted). Wins over `dataDir`. */
  readonly memory?: boolean;
  /**
   * Schema every query runs in (the connection's `search_path`); created when missing. Used for test
   * isolation on a shared server. Lowercase letters, digits and `_` only. Defaults to `public`.
   */
  readonly schema?: string;
  /**
   * Called when a Postgres connection fails (server restart, `pg_terminate_backend`, network drop):
   * a pooled one, idle or checked out (the pool discards it and the next query opens a new one), the
   * LISTEN connection (it reconnects) or a session-key lock's (held keys are reported lost). Never
   * thrown: the query that was running on it rejects on its own. Default: ignore.
   */
  readonly onPoolError?: (error: Error) => void;
  /**
   * `application_name` of this handle's Postgres connections (default `"engram"`), so operators can
   * find them in `pg_stat_activity`; the LISTEN and lock connections get a `:listen` and a
   * `:session-key-lock` suffix. An `application_name` in `url` wins.
   */
  readonly applicationName?: string;
  /** Largest number of pooled Postgres connections (default 10). PGlite has exactly one. */
  readonly maxConnections?: number;
  /**
   * Start an in-memory PGlite from a `dumpDataDir()` tarball instead of running initdb (seconds faster).
   * Ignored for Postgres. The test harness uses it to clone a template.
   */
  readonly pgliteTemplate?: Blob;
}

/**
 * An open database: the Kysely handle plus the means to close it. Generic over the table types so a
 * package that owns other tables opens the same database with its own `DB` type
 * (`createDatabase<MyDB>()` or `database.db.withTables<MyTables>()`).
 */
export interface Database<T = DB> extends AsyncDisposable {
  readonly db: Kysely<T>;
  readonly backend: DatabaseBackend;
  /** The schema queries run in (`public` unless `schema` was given). */
  readonly schema: string;
  /** The PGlite instance behind `db`, for dumps in tests; `undefined` on Postgres. */
  readonly pglite: PGlite | undefined;
  /**
   * Calls `handler` with the payload of every `NOTIFY` on `channel` (Postgres: on a dedicated
   * connection, a {@link PostgresNotificationListener}, which reconnects and listens again after a
   * drop, missing what was sent meanwhile; PGlite: in process). Resolves once listening; the returned
   * function stops it.
   */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * A new per-session-key lock for this process. Postgres: a {@link PostgresSessionKeyLock} (advisory
   * locks on a dedicated connection, opened at first use; namespaced by `schema`), so every process on
   * the database excludes the others. PGlite: an in-process lock (only one process can open it).
   * Closed with the database; create one per process and share it.
   */
  sessionKeyLock(): SessionKeyLock;
  /** Closes the pool or the PGlite instance (and any listening connection or key lock). Idempotent. */
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws `InvalidArgumentError` unless `schema` is a plain lowercase identifier (no quoting needed). */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidArgumentError(
      "schema",
      `${JSON.stringify(schema)} must match ${SCHEMA_NAME.source} (lowercase identifier, at most 63 characters)`,
    );
  }
}

/**
 * Opens a database: Postgres through a `pg` pool when `url` is given, otherwise PGlite (in memory, or
 * at `dataDir`). The schema named by `schema` exists before this resolves, and every connection of
 * the returned handle uses it as its `search_path`.
 *
 * @throws DataDirLockedError (code `DATA_DIR_LOCKED`) when another live process (or this one) has
 *   `dataDir` open; nothing in the folder was read or written then.
 */
export async function createDatabase<T = DB>(props: CreateDatabaseProps = {}): Promise<Database<T>> {
  const schema = props.schema ?? "public";
  assertSchemaName(schema);
  return props.url ? openPostgres<T>(props.url, schema, props) : openPGlite<T>(schema, props);
}

async function openPostgres<T>(
  url: string,
  schema: string,
  props: CreateDatabaseProps,
): Promise<Database<T>> {
  const applicationName = props.applicationName ?? "engram";
  if (schema !== "public") await ensureSchemaOnServer(url, schema, applicationName);
  const pool = new pg.Pool({
    connectionString: url,
    max: props.maxConnections ?? 10,
    application_name: applicationName,
    // Detects a peer that vanished without closing (a network drop), not only a server that said so.
    keepAlive: true,
    types: { getTypeParser: pgTypeParser as typeof pg.types.getTypeParser },
    // Set at connect time, so it holds for every pooled connection and survives ROLLBACK.
    ...(schema === "public" ? {} : { options: `-c search_path=${schema}` }),
  });
  // pg emits "error" on a client whose connection fails at any moment, and an "error" without a
  // listener ends the process. The pool listens only while a client is idle in it; Kysely keeps one
  // checked out across awaits (a whole transaction), so every client gets a listener of its own for
  // its whole life. The query running on it, if any, rejects by itself; the pool drops the client
  // when it comes back (pg-pool checks that it is still queryable).
  const reported = new WeakSet<pg.ClientBase>();
  const report = (error: Error, client: pg.ClientBase | undefined) => {
    // Once per client: an idle client's failure reaches both its own listener and the pool's.
    if (client) {
      if (reported.has(client)) return;
      reported.add(client);
    }
    props.onPoolError?.(error);
  };
  pool.on("connect", (client) => client.on("error", (error) => report(error, client)));
  pool.on("error", (error, client) => report(error, client));
  const db = new Kysely<T>({ dialect: new PostgresDialect({ pool }) });
  const listen = async (channel: string, handler: (payload: string) => void) => {
    const listener = new PostgresNotificationListener({
      url,
      channel,
      onNotification: handler,
      applicationName: `${applicationName}:listen`,
      ...(props.onPoolError ? { onConnectionError: props.onPoolError } : {}),
    });
    await listener.start();
    return () => listener.close();
  };
  const keyLock = () =>
    new PostgresSessionKeyLock({
      url,
      namespace: schema,
      applicationName: `${applicationName}:session-key-lock`,
      ...(props.onPoolError ? { onConnectionError: props.onPoolError } : {}),
    });
  return handle(db, "postgres", schema, undefined, listen, keyLock);
}

const INT8_OID = 20;

// PGlite returns int8 (bigint, bigserial, count(*)) as a JS number and `pg` as a string. Parse it as a
// number on this pool only (not pg's global registry), so both backends hand out the same row shapes.
// Values above 2^53 would lose precision; ids and counters never get there.
function pgTypeParser(oid: number, format?: "text" | "binary"): unknown {
  if (oid === INT8_OID && format !== "binary") return (value: string) => Number(value);
  return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid);
}

async function ensureSchemaOnServer(url: string, schema: string, applicationName: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  // A failure while the statement runs rejects it; without a listener the same "error" event would
  // also end the process.
  client.on("error", () => undefined);
  await client.connect();
  try {
    await createSchemaIfMissing((text) => client.query(text), schema);
  } finally {
    await client.end();
  }
}

async function createSchemaIfMissing(run: (text: string) => Promise<unknown>, schema: string): Promise<void> {
  try {
    // `schema` passed assertSchemaName, so it needs no quoting.
    await run(`create schema if not exists ${schema}`);
  } catch (error) {
    // Two sessions creating the same schema at once can both miss it and one then fails on the
    // catalog's unique index (23505) even with IF NOT EXISTS; the schema exists either way.
    if ((error as { code?: string }).code !== "23505") throw error;
  }
}

async function openPGlite<T>(schema: string, props: CreateDatabaseProps): Promise<Database<T>> {
  let pglite: PGlite;
  let lock: DataDirLock | undefined;
  if (props.pgliteTemplate) {
    pglite = await PGlite.create({ loadDataDir: props.pgliteTemplate });
  } else if (props.memory) {
    pglite = await PGlite.create();
  } else {
    const dataDir = resolve(props.dataDir ?? DEFAULT_PGLITE_DATA_DIR);
    await mkdir(dataDir, { recursive: true });
    // Before PGlite reads anything: a second process on one folder would serve its own copy of the
    // data and one of the two runs' writes would be lost.
    lock = await lockDataDir(dataDir);
    try {
      pglite = await PGlite.create({ dataDir });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  try {
    if (schema !== "public") {
      // PGlite has one session, so a session-level search_path holds for every query.
      await createSchemaIfMissing((text) => pglite.exec(text), schema);
      await pglite.exec(`set search_path to ${schema}`);
    }
  } catch (error) {
    await pglite.close();
    await lock?.release();
    throw error;
  }
  // The dialect closes PGlite when Kysely is destroyed.
  const db = new Kysely<T>({ dialect: new PGliteDialect(pglite) });
  const listen = async (channel: string, handler: (payload: string) => void) => {
    const unlisten = await pglite.listen(quoteIdentifier(channel), handler);
    return async () => {
      if (!pglite.closed) await unlisten();
    };
  };
  return handle(db, "pglite", schema, pglite, listen, () => new InMemorySessionKeyLock(), lock);
}

function handle<T>(
  db: Kysely<T>,
  backend: DatabaseBackend,
  schema: string,
  pglite: PGlite | undefined,
  openListener: (channel: string, handler: (payload: string) => void) => Promise<() => Promise<void>>,
  openKeyLock: () => SessionKeyLock,
  dataDirLock?: DataDirLock,
): Database<T> {
  let closing: Promise<void> | undefined;
  const listeners = new Set<() => Promise<void>>();
  const keyLocks = new Set<SessionKeyLock>();
  const sessionKeyLock = () => {
    const lock = openKeyLock();
    keyLocks.add(lock);
    return lock;
  };
  const listen = async (channel: string, handler: (payload: string) => void) => {
    const stop = await openListener(channel, handler);
    let stopped: Promise<void> | undefined;
    const unlisten = () => {
      if (!stopped) {
        listeners.delete(unlisten);
        stopped = stop();
      }
      return stopped;
    };
    listeners.add(unlisten);
    return unlisten;
  };
  const close = () => {
    closing ??= (async () => {
      await Promise.allSettled([...listeners].map((unlisten) => unlisten()));
      await Promise.allSettled([...keyLocks].map((lock) => lock.close()));
      try {
        await db.destroy();
        // Kysely only destroys a driver it has used; close an untouched PGlite ourselves.
        if (pglite && !pglite.closed) await pglite.close();
      } finally {
        // Only once PGlite has let go of the folder may another process take it.
        await dataDirLock?.release();
      }
    })();
    return closing;
  };
  return { db, backend, schema, pglite, listen, sessionKeyLock, close, [Symbol.asyncDispose]: close };
}

/** The schema unqualified names resolve to on `db`'s connection (`current_schema()`). */
export async function currentSchema(db: Kysely<unknown>): Promise<string> {
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = result.rows[0]?.schema;
  if (!schema) throw new InvalidArgumentError("db", "has no current schema (empty search_path)");
  return schema;
}
