import { createDatabase, type Database } from "@engram/store";
import { createTestDatabase, type TestDatabase, testBackends, truncateAll } from "@engram/store/testing";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionBufferManager } from "../buffer/index.js";
import { migrateSessionBuffer } from "../db/migrations/index.js";
import type { SessionBufferDB } from "../db/schema/index.js";
import { archiveStoreConformance, sessionStateStoreConformance } from "./archive-store.conformance.js";
import { PostgresArchiveStore } from "./postgres-archive-store.js";
import { PostgresSessionStateStore } from "./postgres-session-state-store.js";

// Only the session buffer's own tables: this package's migrations, not the store's.
const testDatabaseProps = { migrate: false, setup: migrateSessionBuffer };

for (const backend of testBackends()) {
  let database: TestDatabase<SessionBufferDB> | undefined;
  const db = (): Kysely<SessionBufferDB> => {
    if (!database) throw new Error("database not open");
    return database.db;
  };
  const open = async () => {
    database ??= await createTestDatabase<SessionBufferDB>(backend, testDatabaseProps);
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
    let own: TestDatabase<SessionBufferDB>;
    beforeAll(async () => {
      own = await createTestDatabase<SessionBufferDB>(backend, testDatabaseProps);
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
      const broken = await createTestDatabase<SessionBufferDB>(backend, testDatabaseProps);
      const store = new PostgresArchiveStore(broken.db);
      await broken.close();
      await expect(store.listArchives("s1")).rejects.toMatchObject({ code: "STORE_FAILED" });
    });
  });
}

// The conformance suite races stores through one pool; here separate pools stand for separate server
// processes merging the same session's archives at once.
const postgres = testBackends().find((backend) => backend.name === "postgres");

describe.skipIf(!postgres)("PostgresArchiveStore merges across pools [postgres]", () => {
  let home: TestDatabase<SessionBufferDB>;
  const pools: Database<SessionBufferDB>[] = [];

  beforeAll(async () => {
    if (postgres?.name !== "postgres") return;
    home = await createTestDatabase<SessionBufferDB>(postgres, testDatabaseProps);
    for (let i = 0; i < 3; i++)
      pools.push(await createDatabase<SessionBufferDB>({ url: postgres.url, schema: home.schema }));
  });
  afterAll(async () => {
    await Promise.all(pools.map((database) => database.close()));
    await home?.close();
  });

  it("leaves every archive live or merged into an archive that exists, round after round", async () => {
    const writer = new PostgresArchiveStore(home.db);
    for (let round = 0; round < 8; round++) {
      const sessionId = `race${round}`;
      for (let i = 0; i < 6; i++) {
        await writer.writeArchive({
          sessionId,
          archiveId: `a${i}`,
          overview: `overview ${i}`,
          abstract: `abstract ${i}`,
          messages: [{ id: `m${i}`, role: "user", content: `message ${i}`, createdAt: i }],
          createdAt: 1000 + i,
        });
      }
      const mergers = pools.map(
        (database) =>
          new SessionBufferManager({
            archiveStore: new PostgresArchiveStore(database.db),
            archiveMergeThreshold: 2,
            archiveMaxCount: 2,
          }),
      );
      const results = await Promise.all(mergers.map((manager) => manager.mergeArchives(sessionId)));
      expect(results.filter((result) => result.merged).length).toBeGreaterThanOrEqual(1);
      const all = await writer.listArchives(sessionId, { includeMerged: true });
      const ids = new Set(all.map((archive) => archive.archiveId));
      for (const archive of all) if (archive.mergedInto) expect(ids.has(archive.mergedInto)).toBe(true);
      // Every original message is still reachable from exactly one live archive.
      const live = all.filter((archive) => archive.mergedInto === null);
      const reachable: string[] = [];
      for (const archive of live) {
        const full = await writer.readArchive(sessionId, archive.archiveId);
        reachable.push(...(full?.messages.map((message) => message.id) ?? []));
      }
      expect(reachable.sort()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
    }
  });
});
