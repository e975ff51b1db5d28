import { ContentTooLargeError, InvalidArgumentError } from "../errors/index.js";
import { type NewTranscriptMessage, TRANSCRIPT_ROLES, type TranscriptRole } from "./transcript-store.js";

/**
 * A message validated and serialised (JSON fields as strings), shared by every `TranscriptStore` so
 * they reject the same input with the same codes. Built before any transaction opens.
 */
export interface PreparedTranscriptMessage {
  readonly role: TranscriptRole;
  readonly content: string | null;
  readonly parts: string | null;
  readonly toolName: string | null;
  readonly toolCalls: string | null;
  readonly toolResults: string | null;
  readonly toolCallId: string | null;
  readonly reasoning: string | null;
  readonly reasoningDetails: string | null;
  readonly platformMessageId: string | null;
  readonly observed: boolean;
  readonly createdAt: Date;
  readonly toolCallCount: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

const encoder = new TextEncoder();

function jsonOrNull(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(field, `must be JSON-serialisable (${(error as Error).message})`);
  }
  if (text === undefined) throw new InvalidArgumentError(field, "must be JSON-serialisable");
  return text;
}

function optionalText(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string or null");
  return value;
}

function counter(field: string, value: unknown, integer: boolean): number {
  if (value === undefined) return 0;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidArgumentError(field, `must be a finite non-negative ${integer ? "integer" : "number"}`);
  }
  return value;
}

/**
 * Validates `message` and serialises its JSON fields. Throws `INVALID_ARGUMENT` for a bad shape and
 * `CONTENT_TOO_LARGE` when content plus serialised JSON exceed `maxBytes` (UTF-8).
 */
export function prepareTranscriptMessage(
  message: NewTranscriptMessage,
  maxBytes: number,
  now: number,
): PreparedTranscriptMessage {
  if (message === null || typeof message !== "object") {
    throw new InvalidArgumentError("message", "must be an object");
  }
  if (!TRANSCRIPT_ROLES.includes(message.role)) {
    throw new InvalidArgumentError("message.role", `must be one of ${TRANSCRIPT_ROLES.join(", ")}`);
  }
  const platformMessageId = optionalText("message.platformMessageId", message.platformMessageId);
  if (platformMessageId !== null && (platformMessageId.length === 0 || platformMessageId.length > 256)) {
    throw new InvalidArgumentError("message.platformMessageId", "must be 1-256 characters");
  }
  const createdAt = message.createdAt ?? now;
  if (!Number.isFinite(createdAt)) throw new InvalidArgumentError("message.createdAt", "must be epoch ms");
  const prepared: PreparedTranscriptMessage = {
    role: message.role,
    content: optionalText("message.content", message.content),
    parts: jsonOrNull("message.parts", message.parts),
    toolName: optionalText("message.toolName", message.toolName),
    toolCalls: jsonOrNull("message.toolCalls", message.toolCalls),
    toolResults: jsonOrNull("message.toolResults", message.toolResults),
    toolCallId: optionalText("message.toolCallId", message.toolCallId),
    reasoning: optionalText("message.reasoning", message.reasoning),
    reasoningDetails: jsonOrNull("message.reasoningDetails", message.reasoningDetails),
    platformMessageId,
    observed: message.observed === true,
    createdAt: new Date(createdAt),
    toolCallCount: Array.isArray(message.toolCalls) ? message.toolCalls.length : 0,
    inputTokens: counter("message.usage.inputTokens", message.usage?.inputTokens, true),
    outputTokens: counter("message.usage.outputTokens", message.usage?.outputTokens, true),
    costUsd: counter("message.usage.costUsd", message.usage?.costUsd, false),
  };
  const size = [
    prepared.content,
    prepared.parts,
    prepared.toolCalls,
    prepared.toolResults,
    prepared.reasoning,
    prepared.reasoningDetails,
  ].reduce((total, text) => total + (text === null ? 0 : encoder.encode(text).byteLength), 0);
  if (size > maxBytes) throw new ContentTooLargeError("message", size, maxBytes);
  return prepared;
}

/** The text of a message for display: `content`, else the text parts joined by newlines. */
export function transcriptMessageText(content: string | null, parts: unknown): string {
  if (content !== null) return content;
  if (!Array.isArray(parts)) return "";
  return parts
    .filter(
      (part): part is { type: "text"; text: string } =>
        typeof part === "object" && part !== null && part.type === "text" && typeof part.text === "string",
    )
    .map((part) => part.text)
    .filter((text) => text.length > 0)
    .join("\n");
}
