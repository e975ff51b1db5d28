import { type Kysely, sql } from "kysely";

// Bank profiles (name, mission, background, disposition) for createBank / getBankProfile / listBanks.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("hindsight_banks")
    .addColumn("name", "text")
    .addColumn("mission", "text")
    .addColumn("background", "text")
    .addColumn("disposition", "jsonb", (col) =>
      col.notNull().defaultTo(sql`'{"skepticism":3,"literalism":3,"empathy":3}'::jsonb`),
    )
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("hindsight_banks")
    .dropColumn("name")
    .dropColumn("mission")
    .dropColumn("background")
    .dropColumn("disposition")
    .dropColumn("updated_at")
    .execute();
}
