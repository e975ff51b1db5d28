import { InvalidArgumentError } from "../errors/engram-error.js";
import type { JsonObject, JsonValue, ToolSchema } from "./types.js";

type Schema = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function typeOf(value: JsonValue | undefined): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: JsonValue, type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  const actual = typeOf(value);
  return types.some((t) => t === actual || (t === "number" && actual === "integer"));
}

/** The first rule `value` breaks, as [argument path, rule], or undefined. */
function violation(value: JsonValue, schema: Schema, path: string): [string, string] | undefined {
  if (schema.type !== undefined && !matchesType(value, schema.type)) {
    return [
      path,
      `must be ${Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type}, got ${typeOf(value)}`,
    ];
  }
  if (
    Array.isArray(schema.enum) &&
    !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))
  ) {
    return [path, `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`];
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength)
      return [path, `must have at least ${schema.minLength} characters`];
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength)
      return [path, `must have at most ${schema.maxLength} characters`];
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value))
      return [path, `must match ${schema.pattern}`];
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      return [path, `must be >= ${schema.minimum}`];
    if (typeof schema.maximum === "number" && value > schema.maximum)
      return [path, `must be <= ${schema.maximum}`];
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems)
      return [path, `must have at least ${schema.minItems} items`];
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      return [path, `must have at most ${schema.maxItems} items`];
    if (isObject(schema.items)) {
      for (const [i, item] of value.entries()) {
        const found = violation(item, schema.items, `${path}[${i}]`);
        if (found) return found;
      }
    }
  }
  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const key of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof key === "string" && value[key] === undefined)
        return [path ? `${path}.${key}` : key, "is required"];
    }
    for (const [key, item] of Object.entries(value)) {
      const where = path ? `${path}.${key}` : key;
      const property = properties[key];
      if (isObject(property)) {
        const found = violation(item, property, where);
        if (found) return found;
      } else if (schema.additionalProperties === false) {
        return [where, "is not an argument of this tool"];
      }
    }
  }
  return undefined;
}

/**
 * Checks a tool call's arguments against the tool's JSON Schema (the subset tool schemas use: `type`,
 * `properties`, `required`, `additionalProperties: false`, `enum`, `items`, string and number bounds)
 * and throws `InvalidArgumentError` (`INVALID_ARGUMENT`) naming the first bad argument and the rule it
 * breaks: the error `handleToolCall` must throw for schema-violating arguments. Keywords outside that
 * subset are not checked; validate those yourself.
 */
export function validateToolArguments(schema: ToolSchema, args: JsonObject): void {
  if (!isObject(args)) throw new InvalidArgumentError("arguments", "must be a JSON object");
  const found = violation(args, schema.parameters as Schema, "");
  if (found !== undefined) throw new InvalidArgumentError(found[0] || "arguments", found[1]);
}
