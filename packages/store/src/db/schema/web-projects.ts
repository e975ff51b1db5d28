import type { Insertable, Selectable, Updateable } from "kysely";
import type { Timestamp } from "./sessions.js";

/** A web UI project: a named group of web sessions (`sessions.project_id`). */
export interface WebProjectTable {
  id: string;
  name: string;
  color: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export const webProjectTableName = "web_projects";

export type WebProjectRow = Selectable<WebProjectTable>;
export type NewWebProjectRow = Insertable<WebProjectTable>;
export type WebProjectUpdate = Updateable<WebProjectTable>;

export interface PartialDB {
  [webProjectTableName]: WebProjectTable;
}
