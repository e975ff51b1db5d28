import type { ColumnType } from "kysely";

export const tableName = "gateway_interrupted_keys";

/**
 * The stuck-loop counter (seed 004 `.restart_failure_counts`): how many unclean starts in a row found
 * a session key's session interrupted (resume-pending) without a turn completing on it in between.
 * At the threshold the key is suspended instead of resumed.
 */
export interface GatewayInterruptedKeyTable {
  session_key: string;
  /** The session the streak belongs to; a different session on the key starts a new streak. */
  session_id: string;
  interrupted_restarts: number;
  updated_at: ColumnType<Date, Date | string, Date | string>;
}

export type PartialDB = { [tableName]: GatewayInterruptedKeyTable };
