import type { ColumnType } from "kysely";

export const tableName = "holographic_entity_aliases";

/** Another name of an entity ("Bob" for "Robert"); `alias_key` is unique, so one alias names one entity. */
export interface HolographicEntityAliasTable {
  alias_key: string;
  alias: string;
  entity_id: number;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PartialDB = { [tableName]: HolographicEntityAliasTable };
