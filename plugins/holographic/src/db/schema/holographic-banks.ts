import type { ColumnType } from "kysely";

export const tableName = "holographic_banks";

/**
 * A memory bank: the circular mean of every fact vector of one category (`name` = `cat:<category>`) of one scope.
 * Derived data, rewritten whenever its category changes; rebuildable from the facts at any time.
 */
export interface HolographicBankTable {
  /** The memory scope the row belongs to (migration 002; `default` for rows written before it). */
  scope: ColumnType<string, string | undefined, string>;
  name: string;
  dim: number;
  fact_count: number;
  vector: Uint8Array;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PartialDB = { [tableName]: HolographicBankTable };
