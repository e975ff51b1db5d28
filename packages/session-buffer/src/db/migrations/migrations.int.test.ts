import { createTestDatabase, testBackends } from "@engram/store/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { SessionBufferDB } from "../schema/index.js";
import { migrateSessionBuffer, sessionBufferMigrations } from "./index.js";

for (const backend of testBackends()) {
  describe(`migrateSessionBuffer [${backend.name}]`, () => {
    it("adopts the tables a database got from @engram/store before the move, keeping their rows", async () => {
      // A database migrated by an earlier @engram/store already has the tables, with no record in this
      // package's bookkeeping table: the same DDL run directly stands for that.
      const database = await createTestDatabase<SessionBufferDB>(backend);
      try {
        await sessionBufferMigrations["001-session-buffer"]?.up(database.db);
        await database.db
          .insertInto("session_states")
          .values({ session_id: "s1", payload: "{}", saved_at: new Date(0) })
          .execute();

        const outcome = await migrateSessionBuffer(database.db);
        expect(outcome.applied).toEqual(["001-session-buffer"]);
        const { rows } = await sql<{ n: number }>`select count(*) as n from session_states`.execute(
          database.db,
        );
        expect(Number(rows[0]?.n)).toBe(1);
        expect((await migrateSessionBuffer(database.db)).applied).toEqual([]);
      } finally {
        await database.close();
      }
    });
  });
}
