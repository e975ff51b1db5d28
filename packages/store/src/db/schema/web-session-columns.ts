import type { Generated } from "kysely";

/**
 * The web UI's columns on the transcript `sessions` table (added by migration 003). A web session is a
 * transcript session with `web_visible` set: created by the web UI, or imported from the CLI/gateway.
 * Composed into `DB` by intersection, so `sessions` rows carry both column sets.
 */
export interface WebSessionColumns {
  /** Listed by the web UI. Imported sessions get it without their messages being copied. */
  web_visible: Generated<boolean>;
  workspace: string | null;
  personality: string | null;
}

export interface PartialDB {
  sessions: WebSessionColumns;
}
