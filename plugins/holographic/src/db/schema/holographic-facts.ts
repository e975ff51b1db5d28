import type { ColumnType, Generated } from "kysely";

export const tableName = "holographic_facts";

/**
 * One fact. `content` is unique within its `scope` (exact-content dedup). `hrr_vector` holds the phase codes as
 * little-endian uint16 (2·dim bytes). `search_vector` is a generated `tsvector` over content and tags,
 * GIN-indexed for full-text candidate generation; it is never written.
 */
export interface HolographicFactTable {
  id: Generated<number>;
  /** The memory scope the row belongs to (migration 002; `default` for rows written before it). */
  scope: ColumnType<string, string | undefined, string>;
  content: string;
  category: ColumnType<string, string | undefined, string>;
  tags: ColumnType<string, string | undefined, string>;
  trust_score: ColumnType<number, number | undefined, number>;
  retrieval_count: ColumnType<number, number | undefined, number>;
  helpful_count: ColumnType<number, number | undefined, number>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  hrr_vector: Uint8Array | null;
  search_vector: ColumnType<string, never, never>;
}

export type PartialDB = { [tableName]: HolographicFactTable };
