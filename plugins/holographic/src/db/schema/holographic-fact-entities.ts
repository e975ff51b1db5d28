export const tableName = "holographic_fact_entities";

/** Links a fact to an entity it mentions (by name or alias). Deleted with either side. */
export interface HolographicFactEntityTable {
  fact_id: number;
  entity_id: number;
}

export type PartialDB = { [tableName]: HolographicFactEntityTable };
