import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, type Database } from "@engram/store";
import type { TestBackend } from "@engram/store/testing";
import { sql } from "kysely";

/**
 * The database one end-to-end file gives its gateway processes: a brand-new Postgres database on the
 * shared server (`e2e_<hex>`, dropped at the end), or a PGlite data folder in a temp dir. The gateway
 * migrates it itself at start, exactly as in production.
 */
export class E2EDatabase {
  readonly backend: TestBackend;
  /** Postgres: the connection string of the fresh database. */
  readonly #url: string | undefined;
  /** PGlite: the data folder. */
  readonly #dataDir: string | undefined;
  readonly #drop: () => Promise<void>;

  private constructor(
    backend: TestBackend,
    location: { url?: string; dataDir?: string },
    drop: () => Promise<void>,
  ) {
    this.backend = backend;
    this.#url = location.url;
    this.#dataDir = location.dataDir;
    this.#drop = drop;
  }

  static async create(backend: TestBackend): Promise<E2EDatabase> {
    if (backend.name === "pglite") {
      const dataDir = await mkdtemp(join(tmpdir(), "engram-e2e-"));
      return new E2EDatabase(backend, { dataDir }, () => rm(dataDir, { recursive: true, force: true }));
    }
    const name = `e2e_${randomBytes(6).toString("hex")}`;
    // `name` is generated from hex digits above: no quoting needed.
    await onServer(backend.url, `create database ${name}`);
    const url = new URL(backend.url);
    url.pathname = `/${name}`;
    return new E2EDatabase(backend, { url: url.toString() }, () =>
      onServer(backend.url, `drop database if exists ${name} with (force)`),
    );
  }

  /** What a gateway process needs in its environment to use this database. */
  env(): Record<string, string> {
    return this.#url ? { DATABASE_URL: this.#url } : { ENGRAM_DATA_DIR: this.#dataDir! };
  }

  /**
   * A direct connection, bypassing the gateway's code (to wipe or corrupt state the way another
   * process or an operator would, and to read what was persisted). On PGlite only one process may
   * hold the data folder: open it only while no gateway runs on it.
   */
  open(): Promise<Database> {
    return this.#url
      ? createDatabase({ url: this.#url, maxConnections: 2 })
      : createDatabase({ dataDir: this.#dataDir! });
  }

  /** Whether a direct connection may be open while a gateway runs on the same database. */
  get sharesConnections(): boolean {
    return this.backend.name === "postgres";
  }

  destroy(): Promise<void> {
    return this.#drop();
  }
}

async function onServer(url: string, statement: string): Promise<void> {
  const server = await createDatabase({ url, maxConnections: 1 });
  try {
    await sql.raw(statement).execute(server.db);
  } finally {
    await server.close();
  }
}
