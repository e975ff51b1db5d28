import type { ColumnType } from "kysely";

export const tableName = "holographic_entity_aliases";

/** Another name of an entity ("Bob" for "Robert"); `alias_key` is unique per scope, so one alias names one entity of a scope. */
export interface HolographicEntityAliasTable {
  /** The memory scope the row belongs to (migration 002; `default` for rows written before it). */
  scope: ColumnType<string, string | undefined, string>;
  alias_key: string;
  alias: string;
  entity_id: number;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PartialDB = { [tableName]: HolographicEntityAliasTable };
