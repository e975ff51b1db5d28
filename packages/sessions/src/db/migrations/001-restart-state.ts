import type { Kysely } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.
//
// These tables were created by the gateway app's own migration (`engram_gateway_migration`) before
// the session runtime became part of @engram/sessions; `if not exists` adopts them, rows and all, on
// such databases instead of failing. Their names stay: they are the restart state of a host instance.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("gateway_instances")
    .ifNotExists()
    .addColumn("instance", "text", (col) => col.primaryKey())
    .addColumn("started_at", "timestamptz", (col) => col.notNull())
    .addColumn("clean_shutdown_at", "timestamptz")
    .execute();
  await db.schema
    .createTable("gateway_interrupted_keys")
    .ifNotExists()
    .addColumn("session_key", "text", (col) => col.primaryKey())
    .addColumn("session_id", "text", (col) => col.notNull())
    .addColumn("interrupted_restarts", "integer", (col) => col.notNull())
    .addColumn("updated_at", "timestamptz", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("gateway_interrupted_keys").execute();
  await db.schema.dropTable("gateway_instances").execute();
}
