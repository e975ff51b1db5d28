import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("openviking_pending_commits")
    // One journal per OpenViking server: the same session id on two servers is two sessions.
    .addColumn("server_url", "text", (col) => col.notNull())
    .addColumn("session_id", "text", (col) => col.notNull())
    .addColumn("instance_id", "text", (col) => col.notNull())
    .addColumn("sequence", "bigint", (col) => col.notNull())
    .addColumn("synced_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("openviking_pending_commits_pk", ["server_url", "session_id"])
    .execute();
  await sql`create sequence openviking_pending_commit_seq`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("openviking_pending_commits").execute();
  await sql`drop sequence openviking_pending_commit_seq`.execute(db);
}
