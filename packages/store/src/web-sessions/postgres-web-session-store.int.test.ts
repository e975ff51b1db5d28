import type { ListWebSessionsOptions } from "@engram/core";
import {
  CompiledQuery,
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
} from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DB } from "../db/schema/index.js";
import { manualClock } from "../routing-index/routing-index.conformance.js";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { truncateAll } from "../testing/truncate-all.js";
import { PostgresTranscriptStore } from "../transcripts/postgres-transcript-store.js";
import { CachedWebSessionStore } from "./cached-web-session-store.js";
import { PostgresWebSessionStore } from "./postgres-web-session-store.js";
import { selectWebSessionPage } from "./web-session-rows.js";
import { webSessionStoreConformance } from "./web-session-store.conformance.js";

/** Counts the statements a Kysely handle sends, to prove a page costs O(1) queries. */
/** Counts executed statements: results, not `transformQuery`, which Kysely also runs for subqueries. */
class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.count++;
    return args.result;
  }
}

for (const backend of testBackends()) {
  let database: TestDatabase | undefined;
  const db = (): Kysely<DB> => {
    if (!database) throw new Error("database not open");
    return database.db;
  };

  // One database for both suites of this backend: opened before the first, closed after the last.
  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await database?.close();
  });

  webSessionStoreConformance({
    name: `PostgresWebSessionStore [${backend.name}]`,
    reset: () => truncateAll(db()),
    createStore: (props) => new PostgresWebSessionStore(db(), props),
    addExternalSession: async (_store, input, clock) => {
      // Written by the transcript store, as the CLI or the gateway would.
      const transcripts = new PostgresTranscriptStore(db(), { clock });
      await transcripts.createSession({ id: input.id, source: input.source, title: input.title ?? null });
      for (const message of input.messages) await transcripts.appendMessage(input.id, message);
    },
  });

  // The cache in front of the database store must be transparent too (it revalidates against the rows).
  webSessionStoreConformance({
    name: `CachedWebSessionStore over PostgresWebSessionStore [${backend.name}]`,
    reset: () => truncateAll(db()),
    createStore: (props) =>
      new CachedWebSessionStore(new PostgresWebSessionStore(db(), props), { maxEntries: 4 }),
    addExternalSession: async (_store, input, clock) => {
      const transcripts = new PostgresTranscriptStore(db(), { clock });
      await transcripts.createSession({ id: input.id, source: input.source, title: input.title ?? null });
      for (const message of input.messages) await transcripts.appendMessage(input.id, message);
    },
  });

  describe(`PostgresWebSessionStore queries [${backend.name}]`, () => {
    let own: TestDatabase;
    beforeAll(async () => {
      own = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await own?.close();
    });

    it("lists a page in one statement however many sessions and messages exist", async () => {
      const counter = new QueryCounter();
      const clock = manualClock();
      const writer = new PostgresWebSessionStore(own.db, { clock });
      for (let i = 0; i < 40; i++) {
        await writer.create({ id: `s${i}` });
        await writer.appendMessages(`s${i}`, [
          { role: "user", content: `question ${i} ${"body ".repeat(200)}` },
          { role: "assistant", content: "answer ".repeat(500) },
        ]);
      }
      const reader = new PostgresWebSessionStore(own.db.withPlugin(counter), { clock });
      const page = await reader.list({ limit: 25 });
      expect(page).toHaveLength(25);
      expect(counter.count).toBe(1);
      // Titles come from a bounded prefix computed in the database, not from loaded bodies.
      expect(page.every((summary) => summary.title.length <= 64)).toBe(true);
      counter.count = 0;
      await reader.getSummary("s3");
      expect(counter.count).toBe(1);
    });

    it("plans a page as a scan of the web listing indexes, with and without a profile", async () => {
      expect(await explainPage(own.db, {})).toMatch(/sessions_web_list_idx/);
      expect(await explainPage(own.db, { profile: "work" })).toMatch(/sessions_web_profile_list_idx/);
    });
  });
}

/** The plan of the store's own page query (as Kysely compiles it), with seq scans off so it tests
 * that the index is usable rather than what the planner picks for a tiny table. */
async function explainPage(db: Kysely<DB>, options: ListWebSessionsOptions): Promise<string> {
  return db.connection().execute(async (conn) => {
    await sql`set enable_seqscan = off`.execute(conn);
    try {
      const compiled = selectWebSessionPage(conn, options, {
        hideBefore: new Date(),
        limit: 50,
        offset: 0,
      }).compile();
      const result = await conn.executeQuery<{ "QUERY PLAN": string }>(
        CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]),
      );
      return result.rows.map((row) => row["QUERY PLAN"]).join("\n");
    } finally {
      await sql`reset enable_seqscan`.execute(conn);
    }
  });
}
