import {
  type ModelOverride,
  parseSessionSource,
  type RoutingEntry,
  type SessionSource,
  sanitizeModelOverride,
  toSessionSourceRecord,
} from "@engram/core";
import type { NewRoutingEntryRow, RoutingEntryRow } from "../db/schema/index.js";

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));

/** The `origin` column value: the snake_case wire record peers exchange, as JSON text. */
export function originToJson(origin: SessionSource | null): string | null {
  return origin === null ? null : JSON.stringify(toSessionSourceRecord(origin));
}

/** A stored origin that no longer parses (hand-edited row, older shape) reads as "unknown origin". */
function originFromJson(value: unknown): SessionSource | null {
  if (value === null || value === undefined) return null;
  try {
    return parseSessionSource(typeof value === "string" ? JSON.parse(value) : value);
  } catch {
    return null;
  }
}

/** Re-sanitised on read too: whatever a row holds, an override handed out never carries credentials. */
function overrideFromJson(value: unknown): ModelOverride | null {
  if (value === null || value === undefined) return null;
  return sanitizeModelOverride(typeof value === "string" ? JSON.parse(value) : value) ?? null;
}

export function fromRoutingRow(row: RoutingEntryRow): RoutingEntry {
  return {
    sessionKey: row.session_key,
    sessionId: row.session_id,
    createdAt: ms(row.created_at),
    updatedAt: ms(row.updated_at),
    origin: originFromJson(row.origin),
    displayName: row.display_name,
    platform: row.platform,
    chatType: row.chat_type,
    lastPromptTokens: Number(row.last_prompt_tokens),
    wasAutoReset: row.was_auto_reset,
    autoResetReason: row.auto_reset_reason,
    resetHadActivity: row.reset_had_activity,
    isFreshReset: row.is_fresh_reset,
    expiryFinalized: row.expiry_finalized,
    suspended: row.suspended,
    resumePending: row.resume_pending,
    resumeReason: row.resume_reason,
    resumeMarkedAt: row.resume_marked_at === null ? null : ms(row.resume_marked_at),
    modelOverride: overrideFromJson(row.model_override),
  };
}

/** The full row of an entry built (and sanitised) by core's `buildRoutingEntry`. */
export function routingEntryToRow(entry: RoutingEntry): NewRoutingEntryRow & { session_key: string } {
  return {
    session_key: entry.sessionKey,
    session_id: entry.sessionId,
    created_at: new Date(entry.createdAt),
    updated_at: new Date(entry.updatedAt),
    origin: originToJson(entry.origin),
    display_name: entry.displayName,
    platform: entry.platform,
    chat_type: entry.chatType,
    last_prompt_tokens: entry.lastPromptTokens,
    was_auto_reset: entry.wasAutoReset,
    auto_reset_reason: entry.autoResetReason,
    reset_had_activity: entry.resetHadActivity,
    is_fresh_reset: entry.isFreshReset,
    expiry_finalized: entry.expiryFinalized,
    suspended: entry.suspended,
    resume_pending: entry.resumePending,
    resume_reason: entry.resumeReason,
    resume_marked_at: entry.resumeMarkedAt === null ? null : new Date(entry.resumeMarkedAt),
    model_override: entry.modelOverride === null ? null : JSON.stringify(entry.modelOverride),
  };
}
