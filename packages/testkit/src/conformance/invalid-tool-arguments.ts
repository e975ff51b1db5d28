import type { JsonObject, JsonValue, ToolSchema } from "@engram/core";
import type { SampleToolCall } from "./provider-test-initializer.js";

/** An invalid call and what makes it invalid. */
export interface InvalidToolCall extends SampleToolCall {
  readonly why: string;
}

const CANDIDATES: readonly JsonValue[] = [12345, "conformance-not-this-type", true, [], {}, null];

function matchesType(value: JsonValue, type: string): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "null":
      return value === null;
    default:
      return true;
  }
}

/** A JSON value of none of the declared types, or `undefined` when the property declares no type. */
export function wrongValueFor(propertySchema: unknown): JsonValue | undefined {
  const type = (propertySchema as { type?: unknown } | null)?.type;
  const types = (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === "string");
  if (types.length === 0) return undefined;
  return CANDIDATES.find((candidate) => types.every((t) => !matchesType(candidate, t)));
}

/**
 * Calls a tool's schema says are invalid: one with every required property missing, and one with
 * every typed property given a value of the wrong type. A tool whose schema constrains nothing yields
 * no call.
 */
export function deriveInvalidToolCalls(schema: ToolSchema): InvalidToolCall[] {
  const calls: InvalidToolCall[] = [];
  const properties = schema.parameters.properties ?? {};
  const required = schema.parameters.required ?? [];
  if (required.length > 0) {
    calls.push({ name: schema.name, args: {}, why: `required ${required.join(", ")} missing` });
  }
  const wrong: JsonObject = {};
  for (const [property, propertySchema] of Object.entries(properties)) {
    const value = wrongValueFor(propertySchema);
    if (value !== undefined) wrong[property] = value;
  }
  if (Object.keys(wrong).length > 0) {
    calls.push({ name: schema.name, args: wrong, why: `wrong types for ${Object.keys(wrong).join(", ")}` });
  }
  return calls;
}
