/**
 * Migration 007 on a database written before it. The bug it fixes (a retried platform message stored
 * again in a later session of the same key, issue 13 item 4) left such databases holding one id in
 * several sessions of a key; the unique receipts must be built from them without failing.
 */
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../../testing/create-test-database.js";
import { testBackends } from "../../testing/test-backends.js";
import { PostgresTranscriptStore } from "../../transcripts/postgres-transcript-store.js";
import { migrateStore, migrateToLatest } from "../migrator.js";
import type { DB } from "../schema/index.js";
import { STORE_MIGRATION_LOCK_TABLE, STORE_MIGRATION_TABLE, storeMigrations } from "./index.js";

const BEFORE = Object.fromEntries(
  Object.entries(storeMigrations).filter(([name]) => name < "007-platform-message-receipts"),
);

async function insertLegacy(db: Kysely<DB>): Promise<void> {
  const key = "agent:main:telegram:dm:1";
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
  await db
    .insertInto("sessions")
    .values([
      { id: "s1", source: "telegram", session_key: key, started_at: at(0), updated_at: at(0) },
      { id: "s2", source: "telegram", session_key: key, started_at: at(10), updated_at: at(10) },
      { id: "web", source: "web", session_key: null, started_at: at(0), updated_at: at(0) },
    ])
    .execute();
  // M answered in s1, then `/new`, then M stored and answered again in s2: the duplicate of the bug.
  const rows = [
    ["s1", "user", "x", "M"],
    ["s1", "assistant", "first reply", null],
    ["s2", "user", "x", "M"],
    ["s2", "assistant", "second reply", null],
    ["s2", "user", "y", "N"],
    ["web", "user", "z", "M"],
  ] as const;
  for (const [i, [sessionId, role, content, platformId]] of rows.entries()) {
    await db
      .insertInto("messages")
      .values({
        session_id: sessionId,
        role,
        content,
        parts: null,
        tool_calls: null,
        tool_results: null,
        reasoning_details: null,
        tool_name: null,
        tool_call_id: null,
        reasoning: null,
        platform_message_id: platformId,
        created_at: at(i),
      })
      .execute();
  }
}

for (const backend of testBackends()) {
  describe(`migration 007-platform-message-receipts [${backend.name}]`, () => {
    it("migrates a database that already holds one id in two sessions of a key, keeping the first", async () => {
      await using database = await createTestDatabase(backend, { migrate: false });
      await migrateToLatest(database.db, {
        migrations: BEFORE,
        migrationTableName: STORE_MIGRATION_TABLE,
        migrationLockTableName: STORE_MIGRATION_LOCK_TABLE,
      });
      await insertLegacy(database.db);

      const outcome = await migrateStore(database.db);
      expect(outcome.applied).toEqual(["007-platform-message-receipts"]);
      const receipts = await database.db
        .selectFrom("platform_message_receipts")
        .select(["session_key", "platform_message_id", "session_id"])
        .orderBy("platform_message_id")
        .execute();
      expect(receipts).toEqual([
        { session_key: "agent:main:telegram:dm:1", platform_message_id: "M", session_id: "s1" },
        { session_key: "agent:main:telegram:dm:1", platform_message_id: "N", session_id: "s2" },
      ]);
      // Nothing of the old rows was touched, and from now on the id is taken for the whole key.
      expect(
        Number(
          (await sql<{ n: number }>`select count(*) as n from messages`.execute(database.db)).rows[0]?.n,
        ),
      ).toBe(6);
      const store = new PostgresTranscriptStore(database.db);
      const found = await store.findPlatformMessage("agent:main:telegram:dm:1", "M");
      expect(found).toMatchObject({ sessionId: "s1", reply: { text: "first reply" } });
      await store.createSession({ id: "s3", source: "telegram", sessionKey: "agent:main:telegram:dm:1" });
      expect(
        await store.appendMessage("s3", { role: "user", content: "x", platformMessageId: "M" }),
      ).toMatchObject({
        duplicate: true,
        existingSessionId: "s1",
      });
    });
  });
}
