import type { Kysely } from "kysely";

// The session buffer's tables (session_archives, session_states) moved to `@engram/session-buffer`,
// which creates them under its own migration table (`migrateSessionBuffer`). This entry stays, empty,
// because databases migrated earlier have it recorded and Kysely refuses a history with a gap; on
// those databases the tables already exist and the session buffer's migration adopts them.

export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
