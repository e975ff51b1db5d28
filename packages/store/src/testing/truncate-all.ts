import { type Kysely, sql } from "kysely";

export interface TruncateAllProps {
  /** Tables to keep besides migration bookkeeping (names ending in `migration` or `migration_lock`). */
  readonly except?: readonly string[];
}

/**
 * Empties every table of the connection's current schema and restarts its sequences, keeping the
 * migration bookkeeping tables so the schema stays migrated. For clearing state between tests.
 */
export async function truncateAll<T>(db: Kysely<T>, props: TruncateAllProps = {}): Promise<void> {
  const anyDb = db as unknown as Kysely<unknown>;
  const keep = new Set(props.except ?? []);
  const { rows } = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = current_schema() order by tablename
  `.execute(anyDb);
  const tables = rows
    .map((row) => row.name)
    .filter((name) => !keep.has(name) && !/migration(_lock)?$/.test(name));
  if (tables.length === 0) return;
  await sql`truncate table ${sql.join(tables.map((name) => sql.table(name)))} restart identity cascade`.execute(
    anyDb,
  );
}
