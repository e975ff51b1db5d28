import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DB } from "../db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { truncateAll } from "../testing/truncate-all.js";
import { archiveStoreConformance, sessionStateStoreConformance } from "./archive-store.conformance.js";
import { PostgresArchiveStore } from "./postgres-archive-store.js";
import { PostgresSessionStateStore } from "./postgres-session-state-store.js";

for (const backend of testBackends()) {
  let database: TestDatabase | undefined;
  const db = (): Kysely<DB> => {
    if (!database) throw new Error("database not open");
    return database.db;
  };
  const open = async () => {
    database ??= await createTestDatabase(backend);
  };
  const close = async () => {
    await database?.close();
    database = undefined;
  };

  archiveStoreConformance({
    name: `PostgresArchiveStore [${backend.name}]`,
    beforeAll: open,
    afterAll: close,
    reset: () => truncateAll(db()),
    createStore: (props) => new PostgresArchiveStore(db(), props),
    createStateStore: () => new PostgresSessionStateStore(db()),
  });

  sessionStateStoreConformance({
    name: `PostgresSessionStateStore [${backend.name}]`,
    beforeAll: open,
    afterAll: close,
    reset: () => truncateAll(db()),
    createStore: () => new PostgresSessionStateStore(db()),
  });

  describe(`session_archives constraints [${backend.name}]`, () => {
    let own: TestDatabase;
    beforeAll(async () => {
      own = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await own?.close();
    });

    it("rejects rows whose messages are not an array or that are merged into themselves", async () => {
      const row = {
        session_id: "s1",
        archive_id: "a1",
        overview: "",
        abstract: "",
        messages: "[]",
        message_count: 0,
        metadata: "{}",
        created_at: new Date(),
        merged_into: null,
      };
      await expect(
        own.db
          .insertInto("session_archives")
          .values({ ...row, messages: '{"not":"array"}' })
          .execute(),
      ).rejects.toMatchObject({ code: "23514" });
      await expect(
        own.db
          .insertInto("session_archives")
          .values({ ...row, merged_into: "a1" })
          .execute(),
      ).rejects.toMatchObject({ code: "23514" });
      const { rows } = await sql<{ n: number }>`select count(*) as n from session_archives`.execute(own.db);
      expect(Number(rows[0]?.n)).toBe(0);
    });

    it("wraps driver failures as STORE_FAILED", async () => {
      const broken = await createTestDatabase(backend);
      const store = new PostgresArchiveStore(broken.db);
      await broken.close();
      await expect(store.listArchives("s1")).rejects.toMatchObject({ code: "STORE_FAILED" });
    });
  });
}
