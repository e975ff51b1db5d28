import type { ColumnType } from "kysely";

export const tableName = "gateway_instances";

/**
 * One row per gateway instance name (`ENGRAM_GATEWAY_INSTANCE`): when its current run started and,
 * once it stopped cleanly, the clean-shutdown marker. A start consumes the marker, so a run that is
 * killed (or whose drain misses its deadline) leaves the row without one and the next start of the
 * same instance restores.
 */
export interface GatewayInstanceTable {
  instance: string;
  started_at: ColumnType<Date, Date | string, Date | string>;
  /** The clean-shutdown marker: set only when the last run's drain finished within its deadline. */
  clean_shutdown_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type PartialDB = { [tableName]: GatewayInstanceTable };
