import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("hindsight_banks")
    .addColumn("bank_id", "text", (col) => col.primaryKey())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable("hindsight_documents")
    .addColumn("bank_id", "text", (col) =>
      col.notNull().references("hindsight_banks.bank_id").onDelete("cascade"),
    )
    .addColumn("document_id", "text", (col) => col.notNull())
    .addColumn("text", "text", (col) => col.notNull())
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("hindsight_documents_pk", ["bank_id", "document_id"])
    .execute();
  await db.schema
    .createTable("hindsight_units")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("seq", "bigserial", (col) => col.notNull())
    .addColumn("bank_id", "text", (col) =>
      col.notNull().references("hindsight_banks.bank_id").onDelete("cascade"),
    )
    .addColumn("document_id", "text")
    .addColumn("text", "text", (col) => col.notNull())
    .addColumn("fact_type", "text", (col) => col.notNull())
    .addColumn("context", "text")
    .addColumn("tags", sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn("entities", sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn("source_fact_ids", sql`text[]`)
    .addColumn("metadata", "jsonb")
    .addColumn("mentioned_at", "timestamptz")
    .addColumn("occurred_start", "timestamptz")
    .addColumn("occurred_end", "timestamptz")
    .addColumn("search", sql`tsvector`, (col) =>
      col.generatedAlwaysAs(sql`to_tsvector('english', text)`).stored(),
    )
    .execute();
  await db.schema
    .createIndex("hindsight_units_document_idx")
    .on("hindsight_units")
    .columns(["bank_id", "document_id"])
    .execute();
  await db.schema
    .createIndex("hindsight_units_search_idx")
    .on("hindsight_units")
    .using("gin")
    .column("search")
    .execute();
  await db.schema
    .createIndex("hindsight_units_entities_idx")
    .on("hindsight_units")
    .using("gin")
    .column("entities")
    .execute();
  await db.schema
    .createTable("hindsight_operations")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("bank_id", "text", (col) => col.notNull())
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("operation_type", "text", (col) => col.notNull())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("completed_at", "timestamptz")
    .addColumn("error_message", "text")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["hindsight_operations", "hindsight_units", "hindsight_documents", "hindsight_banks"]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
