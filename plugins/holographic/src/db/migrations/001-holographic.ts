import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("holographic_facts")
    .addColumn("id", "bigserial", (col) => col.primaryKey())
    .addColumn("content", "text", (col) => col.notNull().unique())
    .addColumn("category", "text", (col) => col.notNull().defaultTo("general"))
    .addColumn("tags", "text", (col) => col.notNull().defaultTo(""))
    .addColumn("trust_score", "double precision", (col) =>
      col.notNull().defaultTo(0.5).check(sql`trust_score >= 0 and trust_score <= 1`),
    )
    .addColumn("retrieval_count", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("helpful_count", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("hrr_vector", "bytea")
    .addColumn("search_vector", sql`tsvector`, (col) =>
      col.generatedAlwaysAs(sql`to_tsvector('english', content || ' ' || tags)`).stored(),
    )
    .execute();
  await db.schema
    .createIndex("holographic_facts_search_idx")
    .on("holographic_facts")
    .using("gin")
    .column("search_vector")
    .execute();
  await db.schema
    .createIndex("holographic_facts_category_trust_idx")
    .on("holographic_facts")
    .columns(["category", "trust_score"])
    .execute();

  await db.schema
    .createTable("holographic_entities")
    .addColumn("id", "bigserial", (col) => col.primaryKey())
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("key", "text", (col) => col.notNull().unique())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("holographic_entity_aliases")
    .addColumn("alias_key", "text", (col) => col.primaryKey())
    .addColumn("alias", "text", (col) => col.notNull())
    .addColumn("entity_id", "bigint", (col) =>
      col.notNull().references("holographic_entities.id").onDelete("cascade"),
    )
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("holographic_entity_aliases_entity_idx")
    .on("holographic_entity_aliases")
    .column("entity_id")
    .execute();

  await db.schema
    .createTable("holographic_fact_entities")
    .addColumn("fact_id", "bigint", (col) =>
      col.notNull().references("holographic_facts.id").onDelete("cascade"),
    )
    .addColumn("entity_id", "bigint", (col) =>
      col.notNull().references("holographic_entities.id").onDelete("cascade"),
    )
    .addPrimaryKeyConstraint("holographic_fact_entities_pk", ["fact_id", "entity_id"])
    .execute();
  await db.schema
    .createIndex("holographic_fact_entities_entity_idx")
    .on("holographic_fact_entities")
    .column("entity_id")
    .execute();

  await db.schema
    .createTable("holographic_banks")
    .addColumn("name", "text", (col) => col.primaryKey())
    .addColumn("dim", "integer", (col) => col.notNull())
    .addColumn("fact_count", "integer", (col) => col.notNull())
    .addColumn("vector", "bytea", (col) => col.notNull())
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "holographic_banks",
    "holographic_fact_entities",
    "holographic_entity_aliases",
    "holographic_entities",
    "holographic_facts",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
