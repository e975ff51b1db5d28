import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("web_projects")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("color", "text")
    .addColumn("created_at", "timestamptz", (col) => col.notNull())
    .addColumn("updated_at", "timestamptz", (col) => col.notNull())
    .execute();

  // Web metadata lives on the transcript's own session row: one row per conversation, so a metadata
  // write is a column UPDATE that cannot touch messages.
  await db.schema
    .alterTable("sessions")
    .addColumn("web_visible", "boolean", (col) => col.notNull().defaultTo(false))
    .addColumn("workspace", "text")
    .addColumn("personality", "text")
    .execute();

  // The sidebar order (pinned first, newest first) over live web sessions: a page is an index scan
  // that stops after `limit` rows, whatever the total.
  await db.schema
    .createIndex("sessions_web_list_idx")
    .on("sessions")
    .expression(sql`pinned desc, updated_at desc, id desc`)
    .where(sql.ref("deleted_at"), "is", null)
    .where(sql.ref("web_visible"), "=", true)
    .execute();
  // The sidebar filtered by profile (the web UI always sends one): same order within a profile, with
  // sessions that have none counted as "default". Queries must spell the expression exactly so.
  await db.schema
    .createIndex("sessions_web_profile_list_idx")
    .on("sessions")
    .expression(sql`(coalesce(nullif(profile, ''), 'default')), pinned desc, updated_at desc, id desc`)
    .where(sql.ref("deleted_at"), "is", null)
    .where(sql.ref("web_visible"), "=", true)
    .execute();
  // The index is partial, and the planner keeps no statistics for expressions of partial indexes: it
  // would guess 0.5% of rows per profile and prefer sorting a bitmap scan of the whole profile over
  // walking the index in order. Expression statistics (filled by ANALYZE / autovacuum) fix the guess.
  await sql`create statistics sessions_web_profile_stats on (coalesce(nullif(profile, ''), 'default')) from sessions`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop statistics if exists sessions_web_profile_stats`.execute(db);
  await db.schema.dropIndex("sessions_web_profile_list_idx").execute();
  await db.schema.dropIndex("sessions_web_list_idx").execute();
  await db.schema
    .alterTable("sessions")
    .dropColumn("personality")
    .dropColumn("workspace")
    .dropColumn("web_visible")
    .execute();
  await db.schema.dropTable("web_projects").execute();
}
