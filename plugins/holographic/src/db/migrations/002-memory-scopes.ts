import type { Kysely } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

/** The scope every row written before scopes existed belongs to. */
const LEGACY_SCOPE = "default";

/**
 * Memory scopes: every fact, entity, alias and category bank belongs to one scope (one person, one
 * shared room, ...), and uniqueness holds within a scope, so two scopes may hold the same fact text,
 * the same entity name or the same bank. Rows written before this migration land in `default`.
 * Fact-entity links need no column: both ends carry the scope.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "holographic_facts",
    "holographic_entities",
    "holographic_entity_aliases",
    "holographic_banks",
  ]) {
    await db.schema
      .alterTable(table)
      .addColumn("scope", "text", (col) => col.notNull().defaultTo(LEGACY_SCOPE))
      .execute();
  }

  // 001 declared these as column constraints, so Postgres named them `<table>_<column>_key` / `_pkey`.
  await db.schema.alterTable("holographic_facts").dropConstraint("holographic_facts_content_key").execute();
  await db.schema
    .alterTable("holographic_facts")
    .addUniqueConstraint("holographic_facts_scope_content_key", ["scope", "content"])
    .execute();
  // A store loads its scope's facts in id order, page by page.
  await db.schema
    .createIndex("holographic_facts_scope_id_idx")
    .on("holographic_facts")
    .columns(["scope", "id"])
    .execute();

  await db.schema.alterTable("holographic_entities").dropConstraint("holographic_entities_key_key").execute();
  await db.schema
    .alterTable("holographic_entities")
    .addUniqueConstraint("holographic_entities_scope_key_key", ["scope", "key"])
    .execute();

  await db.schema
    .alterTable("holographic_entity_aliases")
    .dropConstraint("holographic_entity_aliases_pkey")
    .execute();
  await db.schema
    .alterTable("holographic_entity_aliases")
    .addPrimaryKeyConstraint("holographic_entity_aliases_pkey", ["scope", "alias_key"])
    .execute();

  await db.schema.alterTable("holographic_banks").dropConstraint("holographic_banks_pkey").execute();
  await db.schema
    .alterTable("holographic_banks")
    .addPrimaryKeyConstraint("holographic_banks_pkey", ["scope", "name"])
    .execute();
}

/** Back to one global scope; fails (and rolls back) when two scopes hold the same fact, entity, alias or bank. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("holographic_banks").dropConstraint("holographic_banks_pkey").execute();
  await db.schema
    .alterTable("holographic_banks")
    .addPrimaryKeyConstraint("holographic_banks_pkey", ["name"])
    .execute();
  await db.schema
    .alterTable("holographic_entity_aliases")
    .dropConstraint("holographic_entity_aliases_pkey")
    .execute();
  await db.schema
    .alterTable("holographic_entity_aliases")
    .addPrimaryKeyConstraint("holographic_entity_aliases_pkey", ["alias_key"])
    .execute();
  await db.schema
    .alterTable("holographic_entities")
    .dropConstraint("holographic_entities_scope_key_key")
    .execute();
  await db.schema
    .alterTable("holographic_entities")
    .addUniqueConstraint("holographic_entities_key_key", ["key"])
    .execute();
  await db.schema.dropIndex("holographic_facts_scope_id_idx").execute();
  await db.schema
    .alterTable("holographic_facts")
    .dropConstraint("holographic_facts_scope_content_key")
    .execute();
  await db.schema
    .alterTable("holographic_facts")
    .addUniqueConstraint("holographic_facts_content_key", ["content"])
    .execute();
  for (const table of [
    "holographic_facts",
    "holographic_entities",
    "holographic_entity_aliases",
    "holographic_banks",
  ]) {
    await db.schema.alterTable(table).dropColumn("scope").execute();
  }
}
