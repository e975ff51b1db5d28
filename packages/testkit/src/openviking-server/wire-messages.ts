import { OpenVikingWireError } from "./wire-errors.js";

/** Largest `messages` array `POST /api/v1/sessions/{id}/messages/batch` accepts. */
export const MAX_BATCH_MESSAGES = 100;

export interface ParsedMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
  readonly createdAt?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(field: string, rule: string): OpenVikingWireError {
  return new OpenVikingWireError("INVALID_ARGUMENT", `${field}: ${rule}`, {
    validation_errors: [{ loc: field.split("."), msg: rule }],
  });
}

/** Flattens OpenViking message parts (text, tool, context, image_url) into the buffer's text. */
function partText(part: unknown, field: string): string {
  if (!isObject(part) || typeof part.type !== "string")
    throw invalid(field, "must be an object with a string type");
  switch (part.type) {
    case "text":
      if (typeof part.text !== "string") throw invalid(`${field}.text`, "must be a string");
      return part.text;
    case "tool": {
      if (typeof part.tool_name !== "string" || !part.tool_name) {
        throw invalid(`${field}.tool_name`, "must be a non-empty string");
      }
      const input = part.tool_input === undefined ? "" : JSON.stringify(part.tool_input);
      const output = typeof part.tool_output === "string" ? part.tool_output : "";
      return `[tool ${part.tool_name}] ${input}${output ? ` -> ${output}` : ""}`;
    }
    case "context":
      return typeof part.abstract === "string" ? `[context ${String(part.uri ?? "")}] ${part.abstract}` : "";
    case "image_url":
      return "[image]";
    default:
      throw invalid(`${field}.type`, `unknown part type ${JSON.stringify(part.type)}`);
  }
}

/** Validates one add-message body: a role, and `parts` (preferred) or `content`, never neither. */
export function parseMessage(body: unknown, field = "body"): ParsedMessage {
  if (!isObject(body)) throw invalid(field, "must be a JSON object");
  if (body.role !== "user" && body.role !== "assistant") {
    throw invalid(`${field}.role`, 'must be "user" or "assistant"');
  }
  let content: string;
  if (body.parts !== undefined && body.parts !== null) {
    if (!Array.isArray(body.parts) || body.parts.length === 0) {
      throw invalid(`${field}.parts`, "must be a non-empty array");
    }
    content = body.parts
      .map((part, i) => partText(part, `${field}.parts.${i}`))
      .filter(Boolean)
      .join("\n");
  } else if (typeof body.content === "string") {
    content = body.content;
  } else {
    throw invalid(field, "a message needs content or parts");
  }
  let createdAt: number | undefined;
  if (body.created_at !== undefined && body.created_at !== null) {
    createdAt = typeof body.created_at === "string" ? Date.parse(body.created_at) : Number.NaN;
    if (!Number.isFinite(createdAt)) throw invalid(`${field}.created_at`, "must be an ISO 8601 timestamp");
  }
  return { role: body.role, content, ...(createdAt === undefined ? {} : { createdAt }) };
}

/** Validates a batch body: `{ messages: [...] }` with 1..100 messages; nothing is added when one is bad. */
export function parseBatch(body: unknown): ParsedMessage[] {
  if (!isObject(body) || !Array.isArray(body.messages)) throw invalid("body.messages", "must be an array");
  if (body.messages.length === 0) throw invalid("body.messages", "must not be empty");
  if (body.messages.length > MAX_BATCH_MESSAGES) {
    throw invalid(
      "body.messages",
      `at most ${MAX_BATCH_MESSAGES} messages per request, got ${body.messages.length}`,
    );
  }
  return body.messages.map((message, i) => parseMessage(message, `body.messages.${i}`));
}

const FIND_KEYS = new Set([
  "query",
  "image_url",
  "target_uri",
  "events_time_decay_protection",
  "context_type",
  "tags",
  "limit",
  "node_limit",
  "score_threshold",
  "filter",
  "since",
  "until",
  "time_field",
  "level",
  "include_provenance",
  "read_content",
  "telemetry",
]);
const SEARCH_KEYS = new Set([...FIND_KEYS, "session_id"]);

export interface SearchRequest {
  readonly query: string;
  readonly targetUri: string;
  readonly limit: number;
  readonly scoreThreshold: number;
  readonly sessionId: string | undefined;
}

/** Validates a find (`withSession` false) or search body; unknown keys are rejected, as upstream does. */
export function parseSearch(body: unknown, withSession: boolean): SearchRequest {
  if (!isObject(body)) throw invalid("body", "must be a JSON object");
  const allowed = withSession ? SEARCH_KEYS : FIND_KEYS;
  const unknown = Object.keys(body).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw invalid(`body.${unknown[0]}`, "extra inputs are not permitted");
  const query = body.query ?? "";
  if (typeof query !== "string") throw invalid("body.query", "must be a string");
  const targetUri = body.target_uri ?? "";
  if (typeof targetUri !== "string") throw invalid("body.target_uri", "must be a string");
  const limit = body.node_limit ?? body.limit ?? 10;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw invalid("body.limit", "must be an integer from 1 to 1000");
  }
  const threshold = body.score_threshold ?? 0;
  if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
    throw invalid("body.score_threshold", "must be a number");
  }
  const sessionId = body.session_id;
  if (sessionId !== undefined && sessionId !== null && typeof sessionId !== "string") {
    throw invalid("body.session_id", "must be a string");
  }
  return { query, targetUri, limit, scoreThreshold: threshold, sessionId: sessionId ?? undefined };
}
