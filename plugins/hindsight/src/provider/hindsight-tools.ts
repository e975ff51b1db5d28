import { InvalidArgumentError, type JsonObject, type ToolSchema } from "@engram/core";

export const HINDSIGHT_RETAIN_TOOL = "hindsight_retain";
export const HINDSIGHT_RECALL_TOOL = "hindsight_recall";
export const HINDSIGHT_REFLECT_TOOL = "hindsight_reflect";

const schemas: ToolSchema[] = [
  {
    name: HINDSIGHT_RETAIN_TOOL,
    description:
      "Store information in long-term memory. Hindsight extracts facts, resolves entities and indexes them for recall.",
    parameters: {
      type: "object",
      properties: {
        content: { type: "string", minLength: 1, description: "The information to store." },
        context: {
          type: "string",
          description: "Short label, e.g. 'user preference' or 'project decision'.",
        },
        tags: {
          type: "array",
          items: { type: "string" },
          description: "Tags added to the configured retain tags.",
        },
      },
      required: ["content"],
      additionalProperties: false,
    },
  },
  {
    name: HINDSIGHT_RECALL_TOOL,
    description:
      "Search long-term memory for facts relevant to a query (semantic, keyword, entity and time search).",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string", minLength: 1, description: "What to look for." },
        max_tokens: {
          type: "integer",
          minimum: 1,
          maximum: 100000,
          description: "Largest answer, in tokens.",
        },
        types: {
          type: "array",
          items: { type: "string", enum: ["world", "experience", "observation"] },
          description: "Fact types to search (default: all).",
        },
      },
      required: ["query"],
      additionalProperties: false,
    },
  },
  {
    name: HINDSIGHT_REFLECT_TOOL,
    description:
      "Ask long-term memory a question and get an answer reasoned from the stored facts, with the facts used.",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string", minLength: 1, description: "The question." },
        budget: {
          type: "string",
          enum: ["low", "mid", "high"],
          description: "How much to search (default: low).",
        },
      },
      required: ["query"],
      additionalProperties: false,
    },
  },
];

export const HINDSIGHT_TOOL_SCHEMAS: readonly ToolSchema[] = Object.freeze(schemas);

const ALLOWED: Record<string, ReadonlySet<string>> = {
  [HINDSIGHT_RETAIN_TOOL]: new Set(["content", "context", "tags"]),
  [HINDSIGHT_RECALL_TOOL]: new Set(["query", "max_tokens", "types"]),
  [HINDSIGHT_REFLECT_TOOL]: new Set(["query", "budget"]),
};

/** Throws `INVALID_ARGUMENT` for keys the tool does not declare. */
export function assertKnownArguments(tool: string, args: JsonObject): void {
  const allowed = ALLOWED[tool];
  if (!allowed) return;
  for (const key of Object.keys(args)) {
    if (!allowed.has(key)) throw new InvalidArgumentError(key, `is not an argument of ${tool}`);
  }
}

export function requiredText(args: JsonObject, key: string): string {
  const value = args[key];
  if (typeof value !== "string" || !value.trim())
    throw new InvalidArgumentError(key, "must be a non-empty string");
  return value;
}

export function optionalText(args: JsonObject, key: string): string | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(key, "must be a string");
  return value;
}

export function optionalStrings(
  args: JsonObject,
  key: string,
  allowed?: readonly string[],
): string[] | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new InvalidArgumentError(key, "must be an array of strings");
  }
  const items = value as string[];
  if (allowed) {
    const bad = items.find((item) => !allowed.includes(item));
    if (bad !== undefined)
      throw new InvalidArgumentError(key, `${JSON.stringify(bad)} is not one of ${allowed.join(", ")}`);
  }
  return items;
}

export function optionalInteger(args: JsonObject, key: string, min: number, max: number): number | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(key, `must be an integer from ${min} to ${max}`);
  }
  return value;
}
