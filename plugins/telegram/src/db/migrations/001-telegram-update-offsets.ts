import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("telegram_update_offsets")
    .addColumn("bot_id", "text", (col) => col.primaryKey())
    .addColumn("next_update_id", "bigint", (col) => col.notNull())
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("telegram_update_offsets").execute();
}
