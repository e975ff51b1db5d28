import type { JsonObject } from "@engram/core";
import type { SessionArchiveRow } from "../db/schema/index.js";
import type { ArchivedMessage, ArchiveSummary, SessionArchive } from "../ports/index.js";

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));

/** jsonb comes back parsed from `pg` and PGlite; a string (older drivers, casts) is parsed here. */
function json(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function metadataFrom(value: unknown): JsonObject {
  const parsed = json(value);
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as JsonObject)
    : {};
}

function messagesFrom(value: unknown): ArchivedMessage[] {
  const parsed = json(value);
  return Array.isArray(parsed) ? (parsed as ArchivedMessage[]) : [];
}

export type SummaryColumns = Omit<SessionArchiveRow, "messages">;

export function summaryFromRow(row: SummaryColumns): ArchiveSummary {
  return {
    sessionId: row.session_id,
    archiveId: row.archive_id,
    overview: row.overview,
    abstract: row.abstract,
    messageCount: row.message_count,
    metadata: metadataFrom(row.metadata),
    createdAt: ms(row.created_at),
    mergedInto: row.merged_into,
  };
}

export function archiveFromRow(row: SessionArchiveRow): SessionArchive {
  return { ...summaryFromRow(row), messages: messagesFrom(row.messages) };
}

/** Only the four message fields are stored, whatever else a caller's objects carry. */
export function messagesToJson(messages: readonly ArchivedMessage[]): string {
  return JSON.stringify(
    messages.map(({ id, role, content, createdAt }) => ({ id, role, content, createdAt })),
  );
}
