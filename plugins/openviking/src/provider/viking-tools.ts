import { InvalidArgumentError, type JsonObject, type ToolSchema } from "@engram/core";

export const VIKING_TOOL_NAMES = [
  "viking_search",
  "viking_read",
  "viking_browse",
  "viking_remember",
  "viking_forget",
] as const;
export type VikingToolName = (typeof VIKING_TOOL_NAMES)[number];

export const MAX_REMEMBER_CHARS = 4000;
export type ReadLevel = "abstract" | "overview" | "full";

export const VIKING_TOOL_SCHEMAS: readonly ToolSchema[] = [
  {
    name: "viking_search",
    description:
      "Search long-term memories in OpenViking. Returns the best matches with their URI, category, score and abstract.",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string", description: "What to look for." },
        limit: {
          type: "integer",
          minimum: 1,
          maximum: 20,
          description: "At most this many results (default 5).",
        },
      },
      required: ["query"],
      additionalProperties: false,
    },
  },
  {
    name: "viking_read",
    description:
      "Read an OpenViking URI at a level of detail: abstract (one line), overview (summary) or full content.",
    parameters: {
      type: "object",
      properties: {
        uri: { type: "string", description: "A viking:// URI from a search or browse result." },
        level: { type: "string", enum: ["abstract", "overview", "full"], description: "Default overview." },
      },
      required: ["uri"],
      additionalProperties: false,
    },
  },
  {
    name: "viking_browse",
    description: "List the entries under an OpenViking directory (default: your memories).",
    parameters: {
      type: "object",
      properties: { uri: { type: "string", description: "A viking:// directory URI." } },
      additionalProperties: false,
    },
  },
  {
    name: "viking_remember",
    description:
      "Ask OpenViking to remember a fact. It is stored with this session and extracted when the session is committed.",
    parameters: {
      type: "object",
      properties: { content: { type: "string", description: "The fact, in one or two sentences." } },
      required: ["content"],
      additionalProperties: false,
    },
  },
  {
    name: "viking_forget",
    description:
      "Delete one memory file by its exact URI (viking://user/<user>/memories/.../<name>.md). Directories cannot be deleted.",
    parameters: {
      type: "object",
      properties: { uri: { type: "string", description: "Exact URI of the memory file." } },
      required: ["uri"],
      additionalProperties: false,
    },
  },
];

function checkKeys(args: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(args)) {
    if (!allowed.includes(key))
      throw new InvalidArgumentError(key, `is not a parameter; expected one of ${allowed.join(", ")}`);
  }
}

function requiredString(args: JsonObject, key: string, max = 2000): string {
  const value = args[key];
  if (typeof value !== "string" || !value.trim())
    throw new InvalidArgumentError(key, "must be a non-empty string");
  if (value.length > max)
    throw new InvalidArgumentError(key, `must be at most ${max} characters, got ${value.length}`);
  return value.trim();
}

function vikingUri(args: JsonObject, key: string): string {
  const uri = requiredString(args, key);
  if (!uri.startsWith("viking://"))
    throw new InvalidArgumentError(key, `${JSON.stringify(uri.slice(0, 80))} must start with viking://`);
  if (uri.split("/").includes("..") || uri.includes("\\"))
    throw new InvalidArgumentError(key, "must not contain '..' or backslashes");
  return uri;
}

export function parseSearchArgs(args: JsonObject): { query: string; limit: number } {
  checkKeys(args, ["query", "limit"]);
  const query = requiredString(args, "query");
  const limit = args.limit ?? 5;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 20) {
    throw new InvalidArgumentError("limit", "must be an integer from 1 to 20");
  }
  return { query, limit };
}

export function parseReadArgs(args: JsonObject): { uri: string; level: ReadLevel } {
  checkKeys(args, ["uri", "level"]);
  const uri = vikingUri(args, "uri");
  const level = args.level ?? "overview";
  if (level !== "abstract" && level !== "overview" && level !== "full") {
    throw new InvalidArgumentError("level", `${JSON.stringify(level)} must be abstract, overview or full`);
  }
  return { uri, level };
}

export function parseBrowseArgs(args: JsonObject): { uri: string } {
  checkKeys(args, ["uri"]);
  return { uri: args.uri === undefined ? "viking://~/memories" : vikingUri(args, "uri") };
}

export function parseRememberArgs(args: JsonObject): { content: string } {
  checkKeys(args, ["content"]);
  return { content: requiredString(args, "content", MAX_REMEMBER_CHARS) };
}

/** Exact memory files only: a `.md` leaf under a user's `memories/`, never a directory or generated summary. */
const MEMORY_FILE = /^viking:\/\/(?:user\/[^/]+|~)\/memories\/(?:[^/]+\/)*[^/.][^/]*\.md$/;

export function parseForgetArgs(args: JsonObject): { uri: string } {
  checkKeys(args, ["uri"]);
  const uri = vikingUri(args, "uri");
  if (!MEMORY_FILE.test(uri) || /\/\.(?:abstract|overview)\.md$/.test(uri)) {
    throw new InvalidArgumentError(
      "uri",
      `${JSON.stringify(uri.slice(0, 120))} is not an exact memory file (viking://user/<user>/memories/.../<name>.md)`,
    );
  }
  return { uri };
}
