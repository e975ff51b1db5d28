import { InvalidArgumentError, type JsonObject, type ToolSchema } from "@engram/core";

export const MEMORY_SEARCH_TOOL = "memory_search";
export const MEMORY_ADD_TOOL = "memory_add";

/** Longest note `memory_add` accepts, in characters. */
export const MAX_NOTE_LENGTH = 2_000;
/** Most results `memory_search` returns. */
export const MAX_SEARCH_LIMIT = 20;

const SCHEMAS: ToolSchema[] = [
  {
    name: MEMORY_SEARCH_TOOL,
    description: "Search long-term memory (past turns, facts, notes) by keywords. Returns the best matches.",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string", minLength: 1, description: "Keywords to look for." },
        limit: {
          type: "integer",
          minimum: 1,
          maximum: MAX_SEARCH_LIMIT,
          description: `Most results to return (default 5, at most ${MAX_SEARCH_LIMIT}).`,
        },
        session_id: { type: "string", description: "Only search what was written in this session." },
      },
      required: ["query"],
      additionalProperties: false,
    },
  },
  {
    name: MEMORY_ADD_TOOL,
    description: "Save a durable note to long-term memory (a preference, a decision, a project detail).",
    parameters: {
      type: "object",
      properties: {
        content: { type: "string", minLength: 1, maxLength: MAX_NOTE_LENGTH, description: "The note." },
        tags: { type: "array", items: { type: "string" }, description: "Optional keywords for recall." },
      },
      required: ["content"],
      additionalProperties: false,
    },
  },
];

/** The tools of {@link InMemoryMemoryProvider}, in OpenAI function-calling style. */
export const MEMORY_TOOL_SCHEMAS: readonly ToolSchema[] = Object.freeze(SCHEMAS);

/** Rejects argument names the tool's schema does not declare (`additionalProperties: false`). */
export function rejectUnknownArguments(args: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(args)) {
    if (!allowed.includes(key))
      throw new InvalidArgumentError(key, `is not a parameter (expected ${allowed.join(", ")})`);
  }
}

export function requireText(args: JsonObject, key: string, maxLength = Number.POSITIVE_INFINITY): string {
  const value = args[key];
  if (typeof value !== "string" || value.trim() === "")
    throw new InvalidArgumentError(key, "must be a non-empty string");
  if (value.length > maxLength)
    throw new InvalidArgumentError(key, `must be at most ${maxLength} characters`);
  return value;
}

export function optionalText(args: JsonObject, key: string): string | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(key, "must be a string when given");
  return value;
}

export function optionalInteger(args: JsonObject, key: string, min: number, max: number): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(key, `must be an integer in [${min}, ${max}] when given`);
  }
  return value;
}

export function optionalStringList(args: JsonObject, key: string): string[] | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new InvalidArgumentError(key, "must be an array of strings when given");
  }
  return value as string[];
}
