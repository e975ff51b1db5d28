import type { Kysely } from "kysely";
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
