import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase } from "@engram/store";
import { createScratchServerDatabase, type TestBackend } from "@engram/store/testing";
import { sql } from "kysely";

/** One session's row of the durable commit ledger (seed 000). */
export interface LedgerRow {
  readonly sessionId: string;
  /** Completed turns marked (one generation each). */
  readonly generation: number;
  /** Every generation up to this one is committed. */
  readonly committed: number;
  /** Commit claims ever made on the session: one per commit that ran (a clean session is never claimed). */
  readonly claims: number;
}

/** What the web server persisted, read straight from the database (not through the server). */
export interface PersistedState {
  readonly ledger: LedgerRow[];
  /** Holographic facts of the web owner's scope. */
  readonly facts: string[];
}

/**
 * The database one test file gives its web server processes: a brand-new Postgres database on the
 * shared server (dropped at the end) or a PGlite data folder in a temp dir. The server migrates it at
 * start, as in production.
 */
export class WebE2EDatabase {
  readonly backend: TestBackend;
  readonly #url: string | undefined;
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

  static async create(backend: TestBackend): Promise<WebE2EDatabase> {
    if (backend.name === "pglite") {
      const dataDir = await mkdtemp(join(tmpdir(), "engram-web-e2e-"));
      return new WebE2EDatabase(backend, { dataDir }, () => rm(dataDir, { recursive: true, force: true }));
    }
    const scratch = await createScratchServerDatabase(backend.url, "e2e_web");
    return new WebE2EDatabase(backend, { url: scratch.url }, scratch.drop);
  }

  /** What a web server process needs in its environment to use this database. */
  env(): Record<string, string> {
    return this.#url ? { DATABASE_URL: this.#url } : { ENGRAM_DATA_DIR: this.#dataDir! };
  }

  /**
   * The commit ledger and the Holographic facts, read over a direct connection. PGlite's folder has
   * one owner at a time: call this only while no server runs on it.
   */
  async read(): Promise<PersistedState> {
    const database = this.#url
      ? await createDatabase({ url: this.#url, maxConnections: 1 })
      : await createDatabase({ dataDir: this.#dataDir! });
    try {
      const ledger = (
        await sql<LedgerRow>`
          select session_id as "sessionId", generation::int as generation, committed::int as committed,
                 lease_seq::int as claims
            from commit_sessions order by session_id
        `.execute(database.db)
      ).rows;
      const facts = (
        await sql<{
          content: string;
        }>`select content from holographic_facts where scope = 'web' order by id`.execute(database.db)
      ).rows.map((row) => row.content);
      return { ledger, facts };
    } finally {
      await database.close();
    }
  }

  destroy(): Promise<void> {
    return this.#drop();
  }
}
