import type { Kysely } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  // When each session's memory was last committed and through which generation: written as the
  // ledger completes a commit, so "last commit" survives restarts (the ledger itself keeps no time).
  await db.schema
    .createTable("session_commits")
    .ifNotExists()
    .addColumn("session_id", "text", (col) => col.primaryKey())
    .addColumn("committed_through", "bigint", (col) => col.notNull())
    .addColumn("committed_at", "timestamptz", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("session_commits").execute();
}
