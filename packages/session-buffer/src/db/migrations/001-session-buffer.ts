import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.
//
// These tables were created by `@engram/store`'s migration 005 before the session buffer became a
// package of its own; `if not exists` adopts them on such databases instead of failing.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("session_archives")
    .ifNotExists()
    .addColumn("session_id", "text", (col) => col.notNull())
    .addColumn("archive_id", "text", (col) => col.notNull())
    .addColumn("overview", "text", (col) => col.notNull())
    .addColumn("abstract", "text", (col) => col.notNull())
    .addColumn("messages", "jsonb", (col) => col.notNull())
    .addColumn("message_count", "integer", (col) => col.notNull())
    .addColumn("metadata", "jsonb", (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (col) => col.notNull())
    .addColumn("merged_into", "text")
    .addPrimaryKeyConstraint("session_archives_pk", ["session_id", "archive_id"])
    .addCheckConstraint("session_archives_messages_array", sql`jsonb_typeof(messages) = 'array'`)
    .addCheckConstraint(
      "session_archives_not_self_merged",
      sql`merged_into is null or merged_into <> archive_id`,
    )
    .execute();

  // Listing (live archives of a session, newest first) and latest-archive lookups for fusion.
  await db.schema
    .createIndex("session_archives_live_idx")
    .ifNotExists()
    .on("session_archives")
    .expression(sql`session_id, created_at desc, archive_id collate "C" desc`)
    .where(sql.ref("merged_into"), "is", null)
    .execute();

  await db.schema
    .createTable("session_states")
    .ifNotExists()
    .addColumn("session_id", "text", (col) => col.primaryKey())
    .addColumn("payload", "jsonb", (col) => col.notNull())
    .addColumn("saved_at", "timestamptz", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("session_states").execute();
  await db.schema.dropTable("session_archives").execute();
}
