import type { Generated, Kysely } from "kysely";
import { describe, expectTypeOf, it } from "vitest";
import type { TestDatabase } from "../testing/create-test-database.js";
import type { BackendContext } from "../testing/describe-each-backend.js";
import { createDatabase, type Database } from "./database.js";
import type { DB, MessageRow, SessionRow } from "./schema/index.js";

// Type tests: these assertions are checked by `tsc` (pnpm typecheck); at run time they are no-ops.

interface PluginDB {
  facts: { id: Generated<number>; text: string };
}

describe("public generics", () => {
  it("default to the store's own tables", () => {
    const open = () => createDatabase(); // never called: only its inferred type matters
    const openPlugin = () => createDatabase<PluginDB>();
    expectTypeOf<Awaited<ReturnType<typeof open>>>().toEqualTypeOf<Database<DB>>();
    expectTypeOf<Awaited<ReturnType<typeof openPlugin>>["db"]>().toEqualTypeOf<Kysely<PluginDB>>();
    expectTypeOf<Database["db"]>().toEqualTypeOf<Kysely<DB>>();
    expectTypeOf<TestDatabase["db"]>().toEqualTypeOf<Kysely<DB>>();
  });

  it("carry a plugin's own table types through the handle and the harness", () => {
    expectTypeOf<Database<PluginDB>["db"]>().toEqualTypeOf<Kysely<PluginDB>>();
    expectTypeOf<ReturnType<BackendContext<PluginDB>["db"]>>().toEqualTypeOf<Kysely<PluginDB>>();
    expectTypeOf<Database["backend"]>().toEqualTypeOf<"postgres" | "pglite">();
  });

  it("exposes session and message rows with JS types", () => {
    expectTypeOf<SessionRow["started_at"]>().toEqualTypeOf<Date>();
    expectTypeOf<SessionRow["message_count"]>().toEqualTypeOf<number>();
    expectTypeOf<MessageRow["id"]>().toEqualTypeOf<number>();
    expectTypeOf<MessageRow["parts"]>().toEqualTypeOf<unknown>();
  });
});
