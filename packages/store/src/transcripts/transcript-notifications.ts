import type { Database } from "../db/database.js";

/** The channel migration `006-transcript-notifications` notifies for tables in `schema`. */
export function transcriptChannel(schema: string): string {
  return `engram_transcripts_${schema}`;
}

/**
 * Calls `onChange(sessionId)` whenever a message is added to a session or a session row changes, in
 * any process writing to this database (Postgres `NOTIFY` from the migration's triggers; on PGlite the
 * writers share the process). Resolves once listening; the returned function stops it.
 */
export function listenForTranscriptChanges(
  database: Pick<Database<unknown>, "listen" | "schema">,
  onChange: (sessionId: string) => void,
): Promise<() => Promise<void>> {
  return database.listen(transcriptChannel(database.schema), (payload) => {
    if (payload) onChange(payload);
  });
}
