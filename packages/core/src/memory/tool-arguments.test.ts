import { describe, expect, it } from "vitest";
import { isEngramError } from "../errors/engram-error.js";
import { validateToolArguments } from "./tool-arguments.js";
import type { JsonObject, ToolSchema } from "./types.js";

const search: ToolSchema = {
  name: "notes_search",
  description: "Search notes.",
  parameters: {
    type: "object",
    properties: {
      query: { type: "string", minLength: 1, maxLength: 200 },
      limit: { type: "integer", minimum: 1, maximum: 50 },
      mode: { type: "string", enum: ["any", "all"] },
      tags: { type: "array", items: { type: "string" }, maxItems: 3 },
    },
    required: ["query"],
    additionalProperties: false,
  },
};

function rejection(args: JsonObject): unknown {
  try {
    validateToolArguments(search, args);
    return undefined;
  } catch (error) {
    return isEngramError(error) ? { code: error.code, details: error.details } : error;
  }
}

describe("validateToolArguments", () => {
  it("accepts arguments that keep the schema", () => {
    expect(rejection({ query: "tea", limit: 3, mode: "all", tags: ["a", "b"] })).toBeUndefined();
    expect(rejection({ query: "tea" })).toBeUndefined();
  });

  it.each([
    [{}, "query", "is required"],
    [{ query: 3 }, "query", "must be string, got integer"],
    [{ query: "" }, "query", "must have at least 1 characters"],
    [{ query: "tea", limit: 0 }, "limit", "must be >= 1"],
    [{ query: "tea", limit: 2.5 }, "limit", "must be integer, got number"],
    [{ query: "tea", mode: "some" }, "mode", 'must be one of "any", "all"'],
    [{ query: "tea", tags: ["a", 1] }, "tags[1]", "must be string, got integer"],
    [{ query: "tea", tags: ["a", "b", "c", "d"] }, "tags", "must have at most 3 items"],
    [{ query: "tea", session: "x" }, "session", "is not an argument of this tool"],
  ] as const)("rejects %j with INVALID_ARGUMENT naming %s", (args, argument, rule) => {
    expect(rejection(args as unknown as JsonObject)).toEqual({
      code: "INVALID_ARGUMENT",
      details: { argument, rule },
    });
  });

  it("rejects a non-object argument value", () => {
    expect(rejection([] as unknown as JsonObject)).toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
