/**
 * Message, turn and tool shapes shared by the memory contract, the agent runtime and the stores.
 * Plain data only: every value here survives `JSON.stringify` / `JSON.parse` unchanged, so stores can
 * persist them and HTTP layers can send them without a mapping step.
 */

/** Any value that round-trips through JSON unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object (the shape of tool arguments and of JSON Schema documents). */
export type JsonObject = { [key: string]: JsonValue };

/** Who produced a chat message. `tool` messages carry the result of one tool call. */
export type ChatRole = "system" | "user" | "assistant" | "tool";

/** One tool call requested by the model inside an assistant message. */
export interface ToolCall {
  /** Id the model gave the call; the matching `tool` message repeats it in `toolCallId`. */
  id: string;
  /** Name of the tool to run. */
  name: string;
  /**
   * The arguments as the model produced them: JSON text, kept verbatim because models sometimes emit
   * invalid JSON and the transcript must show what was actually said. Parse at the point of use.
   */
  arguments: string;
}

/** One message of a conversation, in the provider-neutral shape the agent and the stores share. */
export interface ChatMessage {
  role: ChatRole;
  /** Text content; empty string (never undefined) when an assistant message only calls tools. */
  content: string;
  /** Tool calls requested by an `assistant` message. */
  toolCalls?: ToolCall[];
  /** For `tool` messages: the id of the call this message answers. */
  toolCallId?: string;
  /** For `tool` messages: the tool name; for others an optional participant name. */
  name?: string;
}

/**
 * A finished user -> assistant exchange, handed to providers after the fact by `syncTurn`. Providers
 * mirror it (append to their log); extraction of durable facts happens at `onSessionEnd`.
 */
export interface CompletedTurn {
  /** Session the turn belongs to, when the caller knows it. */
  sessionId?: string;
  /** What the user said (already stripped of any recalled `<memory-context>` block). */
  user: string;
  /** The final assistant reply of the turn. */
  assistant: string;
  /** Tool calls the assistant made during the turn, in order. */
  toolCalls?: ToolCall[];
  /** When the turn completed, epoch milliseconds. */
  timestamp: number;
}

/**
 * A JSON Schema object describing tool parameters. Only `type: "object"` is accepted at the top level
 * because OpenAI-style function calling requires it; everything else is passed through untouched.
 */
export interface ToolParametersSchema {
  type: "object";
  properties?: { [name: string]: JsonValue };
  required?: string[];
  [keyword: string]: JsonValue | undefined;
}

/** A tool a provider offers to the model, in OpenAI function-calling style. */
export interface ToolSchema {
  /** Unique tool name, `^[A-Za-z0-9_-]{1,64}$` (the limit model APIs enforce). */
  name: string;
  /** What the tool does, written for the model. */
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: ToolParametersSchema;
}

/** The structured failure a tool call returns instead of throwing. */
export interface ToolCallError {
  /** A stable error code from the core catalog (`TOOL_NOT_FOUND`, `PROVIDER_FAILED`, ...). */
  code: string;
  message: string;
  /** Provider that owned the tool, when one did. */
  provider?: string;
}

/**
 * Result of routing one tool call. Always JSON-serialisable, so it can be fed back to the model as the
 * `tool` message content with `JSON.stringify`.
 */
export type ToolCallResult =
  | { ok: true; provider: string; value: JsonValue }
  | { ok: false; error: ToolCallError };

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks the shape a tool schema must have to be offered to a model: a valid name, a string
 * description and an object-typed `parameters` schema. Anything else is malformed.
 */
export function isToolSchema(value: unknown): value is ToolSchema {
  if (!isPlainObject(value)) return false;
  const { name, description, parameters } = value;
  return (
    typeof name === "string" &&
    TOOL_NAME.test(name) &&
    typeof description === "string" &&
    isPlainObject(parameters) &&
    parameters.type === "object"
  );
}
