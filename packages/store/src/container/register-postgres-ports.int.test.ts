import "reflect-metadata";
import {
  COMMIT_LEDGER,
  type CommitLedger,
  HOST_DATABASE,
  ROUTING_INDEX,
  type RoutingIndex,
  TRANSCRIPT_STORE,
  type TranscriptStore,
  WEB_SESSION_STORE,
  type WebSessionStore,
} from "@engram/core";
import type { Kysely } from "kysely";
import { container as rootContainer } from "tsyringe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { registerPostgresPorts } from "./register-postgres-ports.js";

for (const backend of testBackends()) {
  describe(`registerPostgresPorts [${backend.name}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await database?.close();
    });

    it("registers one instance of each port on the database, and the database itself", async () => {
      const container = rootContainer.createChildContainer();
      const ports = registerPostgresPorts(container, database.db);
      expect(container.resolve<TranscriptStore>(TRANSCRIPT_STORE)).toBe(ports.transcripts);
      expect(container.resolve<RoutingIndex>(ROUTING_INDEX)).toBe(ports.routingIndex);
      expect(container.resolve<WebSessionStore>(WEB_SESSION_STORE)).toBe(ports.webSessions);
      expect(container.resolve<CommitLedger>(COMMIT_LEDGER)).toBe(ports.commitLedger);
      expect(container.resolve<Kysely<unknown>>(HOST_DATABASE)).toBe(database.db);
      // A session's child container sees the same instances.
      const session = container.createChildContainer();
      const transcripts = session.resolve<TranscriptStore>(TRANSCRIPT_STORE);
      expect(transcripts).toBe(ports.transcripts);
      const created = await transcripts.createSession({ id: "ports-1", source: "cli" });
      expect((await ports.transcripts.getSession(created.id))?.id).toBe(created.id);
    });
  });
}
