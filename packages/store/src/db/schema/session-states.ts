import type { Insertable, Selectable } from "kysely";
import type { Jsonb } from "./messages.js";
import type { Timestamp } from "./sessions.js";

/** The durable state of one session buffer (task, commitments, window, counters) as opaque JSON. */
export interface SessionStateTable {
  session_id: string;
  payload: Jsonb;
  saved_at: Timestamp;
}

export const sessionStateTableName = "session_states";

export type SessionStateRow = Selectable<SessionStateTable>;
export type NewSessionStateRow = Insertable<SessionStateTable>;

export interface PartialDB {
  [sessionStateTableName]: SessionStateTable;
}
