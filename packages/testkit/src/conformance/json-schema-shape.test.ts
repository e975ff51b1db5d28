import { describe, expect, it } from "vitest";
import { MEMORY_TOOL_SCHEMAS } from "../reference/memory-tools.js";
import { deriveInvalidToolCalls, wrongValueFor } from "./invalid-tool-arguments.js";
import { toolParametersProblems } from "./json-schema-shape.js";

const ok = { type: "object", properties: { q: { type: "string" } }, required: ["q"] };

describe("toolParametersProblems", () => {
  it("accepts the reference provider's schemas and a schema with no properties", () => {
    for (const schema of MEMORY_TOOL_SCHEMAS) expect(toolParametersProblems(schema.parameters)).toEqual([]);
    expect(toolParametersProblems({ type: "object" })).toEqual([]);
  });

  it.each([
    ["a top level that is not an object schema", { type: "array" }, /must be "object"/],
    [
      "a required name missing from properties",
      { ...ok, required: ["q", "ghost"] },
      /"ghost" is not declared/,
    ],
    ["required without properties", { type: "object", required: ["q"] }, /"q" is not declared/],
    ["required listed twice", { ...ok, required: ["q", "q"] }, /twice/],
    ["an unknown type name", { type: "object", properties: { q: { type: "text" } } }, /not a JSON type/],
    [
      "a negative minLength",
      { type: "object", properties: { q: { type: "string", minLength: -1 } } },
      /non-negative/,
    ],
    [
      "minimum above maximum",
      { type: "object", properties: { n: { type: "integer", minimum: 5, maximum: 1 } } },
      /greater than/,
    ],
    [
      "an invalid pattern",
      { type: "object", properties: { q: { type: "string", pattern: "(" } } },
      /regular expression/,
    ],
    ["an empty enum", { type: "object", properties: { q: { enum: [] } } }, /non-empty/],
    [
      "a nested bad item schema",
      { type: "object", properties: { l: { type: "array", items: 7 } } },
      /items: a schema/,
    ],
    ["properties that are not schemas", { type: "object", properties: { q: "string" } }, /a schema must be/],
    [
      "an undefined value",
      { type: "object", properties: { q: { type: "string", default: undefined } } },
      /not plain JSON/,
    ],
  ])("reports %s", (_label, schema, problem) => {
    expect(toolParametersProblems(schema).join("\n")).toMatch(problem);
  });

  it("reports a cyclic schema instead of looping", () => {
    const cyclic: Record<string, unknown> = { type: "object", properties: {} };
    (cyclic.properties as Record<string, unknown>).self = cyclic;
    expect(toolParametersProblems(cyclic).join("\n")).toMatch(/cycle/);
  });
});

describe("deriveInvalidToolCalls", () => {
  it("derives a missing-required call and a wrong-types call from a schema", () => {
    const search = MEMORY_TOOL_SCHEMAS[0];
    if (search === undefined) throw new Error("no schema");
    expect(deriveInvalidToolCalls(search).map((c) => c.args)).toEqual([
      {},
      { query: 12345, limit: "conformance-not-this-type", session_id: 12345 },
    ]);
  });

  it("picks a value of none of a union's types and nothing for an untyped property", () => {
    expect(wrongValueFor({ type: ["string", "integer"] })).toBe(true);
    expect(wrongValueFor({ description: "anything" })).toBeUndefined();
    expect(deriveInvalidToolCalls({ name: "t", description: "d", parameters: { type: "object" } })).toEqual(
      [],
    );
  });
});
