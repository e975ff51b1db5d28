import { createTestDatabase, testBackends } from "@engram/store/testing";
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { SessionsDB } from "../schema/index.js";
import { migrateSessions, sessionsMigrations } from "./index.js";

for (const backend of testBackends()) {
  describe(`migrateSessions [${backend.name}]`, () => {
    it("adopts the restart-state tables a database got from the gateway before the move, keeping their rows", async () => {
      // A database the gateway migrated already has the tables, recorded only in the gateway's own
      // bookkeeping table: the same DDL run directly stands for that.
      const database = await createTestDatabase<SessionsDB>(backend);
      try {
        await sessionsMigrations["001-restart-state"]?.up(database.db as unknown as Kysely<unknown>);
        await database.db
          .insertInto("gateway_instances")
          .values({ instance: "main", started_at: new Date(0), clean_shutdown_at: new Date(1) })
          .execute();

        const outcome = await migrateSessions(database.db);
        expect(outcome.applied).toEqual(["001-restart-state", "002-session-commits"]);
        const { rows } = await sql<{ n: number }>`select count(*) as n from gateway_instances`.execute(
          database.db,
        );
        expect(Number(rows[0]?.n)).toBe(1);
        expect((await migrateSessions(database.db)).applied).toEqual([]);
      } finally {
        await database.close();
      }
    });
  });
}
