import type {
  PreparedTranscriptMessage,
  TranscriptMessage,
  TranscriptRole,
  TranscriptSession,
} from "@engram/core";
import type { MessageRow, SessionRow } from "../db/schema/index.js";

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));
const msOrNull = (value: Date | string | null): number | null => (value === null ? null : ms(value));

export function toTranscriptSession(row: SessionRow): TranscriptSession {
  return {
    id: row.id,
    source: row.source,
    userId: row.user_id,
    sessionKey: row.session_key,
    chatId: row.chat_id,
    chatType: row.chat_type,
    threadId: row.thread_id,
    title: row.title,
    model: row.model,
    parentSessionId: row.parent_session_id,
    startedAt: ms(row.started_at),
    endedAt: msOrNull(row.ended_at),
    endReason: row.end_reason,
    messageCount: Number(row.message_count),
    toolCallCount: Number(row.tool_call_count),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: Number(row.cost_usd),
    pinned: row.pinned,
    archived: row.archived,
    projectId: row.project_id,
    profile: row.profile,
    updatedAt: ms(row.updated_at),
  };
}

export function toTranscriptMessage(row: Omit<MessageRow, "search">): TranscriptMessage {
  return {
    id: Number(row.id),
    sessionId: row.session_id,
    role: row.role as TranscriptRole,
    content: row.content,
    parts: row.parts,
    toolName: row.tool_name,
    toolCalls: row.tool_calls,
    toolResults: row.tool_results,
    toolCallId: row.tool_call_id,
    reasoning: row.reasoning,
    reasoningDetails: row.reasoning_details,
    platformMessageId: row.platform_message_id,
    observed: row.observed,
    active: row.active,
    compacted: row.compacted,
    createdAt: ms(row.created_at),
  };
}

export { ms as toEpochMs };

/** Columns of `messages` read back as a {@link TranscriptMessage} (the generated `search` vector is skipped). */
export const MESSAGE_COLUMNS = [
  "id",
  "session_id",
  "role",
  "content",
  "parts",
  "tool_name",
  "tool_calls",
  "tool_results",
  "tool_call_id",
  "reasoning",
  "reasoning_details",
  "platform_message_id",
  "observed",
  "active",
  "compacted",
  "created_at",
] as const;

/** The `messages` insert row of a validated message; every store that appends messages writes this shape. */
export function toMessageInsertRow(sessionId: string, message: PreparedTranscriptMessage) {
  return {
    session_id: sessionId,
    role: message.role,
    content: message.content,
    parts: message.parts,
    tool_name: message.toolName,
    tool_calls: message.toolCalls,
    tool_results: message.toolResults,
    tool_call_id: message.toolCallId,
    reasoning: message.reasoning,
    reasoning_details: message.reasoningDetails,
    platform_message_id: message.platformMessageId,
    observed: message.observed,
    created_at: message.createdAt,
  };
}

/** True for Postgres' unique_violation (SQLSTATE 23505), on `pg` and PGlite alike. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}
