import type { Migration } from "kysely";
import * as m001 from "./001-transcripts.js";
import * as m002 from "./002-routing-index.js";
import * as m003 from "./003-web-sessions.js";
import * as m004 from "./004-commit-ledger.js";
import * as m005 from "./005-session-archives.js";
import * as m006 from "./006-transcript-notifications.js";
import * as m007 from "./007-platform-message-receipts.js";

/**
 * Every migration of `@engram/store`, in order (Kysely sorts by key). Add a new entry per change; never
 * edit or rename a shipped one. Run them with `migrateStore(db)`.
 */
export const storeMigrations: Record<string, Migration> = {
  "001-transcripts": m001,
  "002-routing-index": m002,
  "003-web-sessions": m003,
  "004-commit-ledger": m004,
  "005-session-archives": m005,
  "006-transcript-notifications": m006,
  "007-platform-message-receipts": m007,
};

/** Names of the bookkeeping tables for {@link storeMigrations}; fixed forever. */
export const STORE_MIGRATION_TABLE = "engram_store_migration";
export const STORE_MIGRATION_LOCK_TABLE = "engram_store_migration_lock";
