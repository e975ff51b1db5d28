import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("source", "text", (col) => col.notNull())
    .addColumn("user_id", "text")
    .addColumn("session_key", "text")
    .addColumn("chat_id", "text")
    .addColumn("chat_type", "text")
    .addColumn("thread_id", "text")
    .addColumn("title", "text")
    .addColumn("model", "text")
    // No foreign key: a continuation outlives a pruned parent, and lineage walks tolerate gaps.
    .addColumn("parent_session_id", "text")
    .addColumn("started_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("ended_at", "timestamptz")
    .addColumn("end_reason", "text")
    .addColumn("message_count", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("tool_call_count", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("input_tokens", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("output_tokens", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("cost_usd", "double precision", (col) => col.notNull().defaultTo(0))
    .addColumn("pinned", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("archived", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("deleted_at", "timestamptz")
    .addColumn("project_id", "text")
    .addColumn("profile", "text")
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  // Titles are unique among sessions that are not deleted; deleting one frees its title.
  await db.schema
    .createIndex("sessions_title_unique")
    .on("sessions")
    .column("title")
    .unique()
    .where(sql.ref("title"), "is not", null)
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
  await db.schema.createIndex("sessions_parent_idx").on("sessions").column("parent_session_id").execute();
  await db.schema
    .createIndex("sessions_peer_idx")
    .on("sessions")
    .columns(["source", "session_key", "started_at"])
    .execute();
  await db.schema
    .createIndex("sessions_origin_recent_idx")
    .on("sessions")
    .columns(["source", "user_id", "updated_at"])
    .execute();
  // The listing order (pinned first, newest first) over live sessions: a first page is an index scan.
  await db.schema
    .createIndex("sessions_list_idx")
    .on("sessions")
    .expression(sql`pinned desc, updated_at desc, id desc`)
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
  await db.schema.createIndex("sessions_ended_idx").on("sessions").column("ended_at").execute();

  await db.schema
    .createTable("messages")
    .addColumn("id", "bigserial", (col) => col.primaryKey())
    .addColumn("session_id", "text", (col) => col.notNull().references("sessions.id").onDelete("cascade"))
    .addColumn("role", "text", (col) => col.notNull())
    .addColumn("content", "text")
    .addColumn("parts", "jsonb")
    .addColumn("tool_name", "text")
    .addColumn("tool_calls", "jsonb")
    .addColumn("tool_results", "jsonb")
    .addColumn("tool_call_id", "text")
    .addColumn("reasoning", "text")
    .addColumn("reasoning_details", "jsonb")
    .addColumn("platform_message_id", "text")
    .addColumn("observed", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("active", "boolean", (col) => col.notNull().defaultTo(true))
    .addColumn("compacted", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    // 'simple' (no stemming, no stop words) behaves the same for every language users write in.
    .addColumn("search", sql`tsvector`, (col) =>
      col.generatedAlwaysAs(sql`to_tsvector('simple', coalesce(content, ''))`).stored(),
    )
    .execute();

  await db.schema.createIndex("messages_session_idx").on("messages").columns(["session_id", "id"]).execute();
  // Dedupe of redelivered platform messages: one row per platform id per session.
  await db.schema
    .createIndex("messages_platform_id_unique")
    .on("messages")
    .columns(["session_id", "platform_message_id"])
    .unique()
    .where(sql.ref("platform_message_id"), "is not", null)
    .execute();
  await db.schema.createIndex("messages_search_idx").on("messages").using("gin").column("search").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("messages").execute();
  await db.schema.dropTable("sessions").execute();
}
