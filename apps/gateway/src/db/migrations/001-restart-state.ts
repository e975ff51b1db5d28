import type { Kysely } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("gateway_instances")
    .addColumn("instance", "text", (col) => col.primaryKey())
    .addColumn("started_at", "timestamptz", (col) => col.notNull())
    .addColumn("clean_shutdown_at", "timestamptz")
    .execute();
  await db.schema
    .createTable("gateway_interrupted_keys")
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
