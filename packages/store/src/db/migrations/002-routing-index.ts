import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("routing_entries")
    .addColumn("session_key", "text", (col) => col.primaryKey())
    .addColumn("session_id", "text", (col) => col.notNull())
    .addColumn("created_at", "timestamptz", (col) => col.notNull())
    .addColumn("updated_at", "timestamptz", (col) => col.notNull())
    .addColumn("origin", "jsonb")
    .addColumn("display_name", "text")
    .addColumn("platform", "text")
    .addColumn("chat_type", "text", (col) => col.notNull().defaultTo("dm"))
    .addColumn("last_prompt_tokens", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("was_auto_reset", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("auto_reset_reason", "text")
    .addColumn("reset_had_activity", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("is_fresh_reset", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("expiry_finalized", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("suspended", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("resume_pending", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("resume_reason", "text")
    .addColumn("resume_marked_at", "timestamptz")
    .addColumn("model_override", "jsonb")
    // Defence in depth behind sanitizeModelOverride: a row can never hold an API key or any other
    // key than model/provider/baseUrl, whoever writes it.
    .addCheckConstraint(
      "routing_entries_model_override_keys",
      sql`model_override is null or (jsonb_typeof(model_override) = 'object'
        and model_override - array['model', 'provider', 'baseUrl'] = '{}'::jsonb)`,
    )
    .addCheckConstraint("routing_entries_tokens_nonnegative", sql`last_prompt_tokens >= 0`)
    .execute();

  // lookup_by_session_id, and the stale-route sweep that joins sessions.
  await db.schema
    .createIndex("routing_entries_session_idx")
    .on("routing_entries")
    .column("session_id")
    .execute();
  // Listing (newest first), pruning and the restart sweep scan by last activity.
  await db.schema
    .createIndex("routing_entries_updated_idx")
    .on("routing_entries")
    .expression(sql`updated_at desc, session_key`)
    .execute();
  await db.schema
    .createIndex("routing_entries_platform_idx")
    .on("routing_entries")
    .expression(sql`platform, updated_at desc`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("routing_entries").execute();
}
