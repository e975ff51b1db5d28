import type { ColumnType, Generated } from "kysely";

export const tableName = "holographic_entities";

/** A named entity. `key` (see `entityKey`) is its identity within its `scope`: case, `-` and `_` do not make a new entity. */
export interface HolographicEntityTable {
  id: Generated<number>;
  /** The memory scope the row belongs to (migration 002; `default` for rows written before it). */
  scope: ColumnType<string, string | undefined, string>;
  name: string;
  key: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PartialDB = { [tableName]: HolographicEntityTable };
