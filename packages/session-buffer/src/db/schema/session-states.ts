import type { Jsonb, Timestamp } from "@engram/store";
import type { Insertable, Selectable } from "kysely";

/** The durable state of one session buffer (task, commitments, window, counters) as opaque JSON. */
export type SessionStateTable = {
  session_id: string;
  payload: Jsonb;
  saved_at: Timestamp;
};

export const sessionStateTableName = "session_states";

export type SessionStateRow = Selectable<SessionStateTable>;
export type NewSessionStateRow = Insertable<SessionStateTable>;

export type PartialDB = {
  [sessionStateTableName]: SessionStateTable;
};
