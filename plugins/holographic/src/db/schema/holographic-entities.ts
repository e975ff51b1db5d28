import type { ColumnType, Generated } from "kysely";

export const tableName = "holographic_entities";

/** A named entity. `key` (see `entityKey`) is its identity: case, `-` and `_` do not make a new entity. */
export interface HolographicEntityTable {
  id: Generated<number>;
  name: string;
  key: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PartialDB = { [tableName]: HolographicEntityTable };
