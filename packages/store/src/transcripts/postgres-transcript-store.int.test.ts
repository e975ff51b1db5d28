import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import type { DB } from "../db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { transcriptStoreConformance } from "../testing/transcript-store-conformance.js";
import { truncateAll } from "../testing/truncate-all.js";
import { PostgresTranscriptStore } from "./postgres-transcript-store.js";

for (const backend of testBackends()) {
  let database: TestDatabase | undefined;
  const db = (): Kysely<DB> => {
    if (!database) throw new Error("database not open");
    return database.db;
  };
  transcriptStoreConformance({
    name: `PostgresTranscriptStore [${backend.name}]`,
    beforeAll: async () => {
      database = await createTestDatabase(backend);
    },
    afterAll: async () => {
      await database?.close();
    },
    reset: () => truncateAll(db()),
    createStore: (props) => new PostgresTranscriptStore(db(), props),
  });
}

for (const backend of testBackends()) {
  describe(`PostgresTranscriptStore driver failures [${backend.name}]`, () => {
    it("reports a failing database as STORE_FAILED and keeps the driver error as cause", async () => {
      const broken = await createTestDatabase(backend, { migrate: false });
      const store = new PostgresTranscriptStore(broken.db);
      // No migrations ran: every table is missing, so the driver itself rejects the query.
      const error = await store.getSession("s1").catch((caught: unknown) => caught);
      await broken.close();
      expect(error).toMatchObject({ code: "STORE_FAILED" });
      expect((error as Error).cause).toBeInstanceOf(Error);
    });
  });
}
