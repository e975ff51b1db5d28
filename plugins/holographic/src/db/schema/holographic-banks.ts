import type { ColumnType } from "kysely";

export const tableName = "holographic_banks";

/**
 * A memory bank: the circular mean of every fact vector of one category (`name` = `cat:<category>`).
 * Derived data, rewritten whenever its category changes; rebuildable from the facts at any time.
 */
export interface HolographicBankTable {
  name: string;
  dim: number;
  fact_count: number;
  vector: Uint8Array;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PartialDB = { [tableName]: HolographicBankTable };
