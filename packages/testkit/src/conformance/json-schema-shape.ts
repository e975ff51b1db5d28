import { findNonJson } from "./json-value-check.js";

/**
 * A structural check of the JSON Schema documents providers declare as tool parameters. It checks
 * the keywords function-calling models rely on (types, properties, required, items, enum, bounds,
 * combinators) without compiling the schema, so the kit needs no schema engine. Unknown keywords are
 * allowed, as JSON Schema allows them.
 */

const JSON_TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
const COUNT_KEYWORDS = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"];
const NUMBER_KEYWORDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const STRING_KEYWORDS = ["description", "title", "format", "$ref", "$id", "$schema", "$comment"];
const SCHEMA_LIST_KEYWORDS = ["anyOf", "oneOf", "allOf", "prefixItems"];
const SCHEMA_KEYWORDS = ["not", "if", "then", "else", "contains", "propertyNames"];
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions"];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function checkBounds(node: Record<string, unknown>, low: string, high: string, at: string, out: string[]) {
  const min = node[low];
  const max = node[high];
  if (typeof min === "number" && typeof max === "number" && min > max) {
    out.push(`${at}: ${low} (${min}) is greater than ${high} (${max})`);
  }
}

function checkNode(node: unknown, at: string, out: string[]): void {
  // Sub-schemas may be booleans (true accepts everything, false nothing).
  if (typeof node === "boolean") return;
  if (!isPlainObject(node)) {
    out.push(`${at}: a schema must be an object or a boolean`);
    return;
  }
  const { type, required, properties, items, enum: enumValues, additionalProperties, pattern } = node;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (types.length === 0 || types.some((t) => typeof t !== "string" || !JSON_TYPES.has(t))) {
      out.push(`${at}.type: ${JSON.stringify(type)} is not a JSON type or a non-empty list of them`);
    } else if (new Set(types).size !== types.length) {
      out.push(`${at}.type: lists a type twice`);
    }
  }
  for (const keyword of STRING_KEYWORDS) {
    if (node[keyword] !== undefined && typeof node[keyword] !== "string") {
      out.push(`${at}.${keyword}: must be a string`);
    }
  }
  for (const keyword of COUNT_KEYWORDS) {
    if (node[keyword] !== undefined && !isCount(node[keyword])) {
      out.push(`${at}.${keyword}: must be a non-negative integer`);
    }
  }
  for (const keyword of NUMBER_KEYWORDS) {
    if (node[keyword] !== undefined && typeof node[keyword] !== "number") {
      out.push(`${at}.${keyword}: must be a number`);
    }
  }
  checkBounds(node, "minimum", "maximum", at, out);
  checkBounds(node, "minLength", "maxLength", at, out);
  checkBounds(node, "minItems", "maxItems", at, out);
  if (node.multipleOf !== undefined && !(typeof node.multipleOf === "number" && node.multipleOf > 0)) {
    out.push(`${at}.multipleOf: must be a number greater than 0`);
  }
  if (node.uniqueItems !== undefined && typeof node.uniqueItems !== "boolean") {
    out.push(`${at}.uniqueItems: must be a boolean`);
  }
  if (pattern !== undefined) {
    try {
      if (typeof pattern !== "string") throw new TypeError("not a string");
      new RegExp(pattern, "u");
    } catch {
      out.push(`${at}.pattern: ${JSON.stringify(pattern)} is not a valid regular expression`);
    }
  }
  if (enumValues !== undefined && !(Array.isArray(enumValues) && enumValues.length > 0)) {
    out.push(`${at}.enum: must be a non-empty array`);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = node[keyword];
    if (map === undefined) continue;
    if (!isPlainObject(map)) {
      out.push(`${at}.${keyword}: must be an object of schemas`);
      continue;
    }
    for (const [name, child] of Object.entries(map)) checkNode(child, `${at}.${keyword}.${name}`, out);
  }
  if (required !== undefined) {
    if (!Array.isArray(required) || required.some((name) => typeof name !== "string")) {
      out.push(`${at}.required: must be an array of property names`);
    } else {
      if (new Set(required).size !== required.length) out.push(`${at}.required: lists a property twice`);
      const declared = isPlainObject(properties) ? properties : {};
      for (const name of required as string[]) {
        if (!Object.hasOwn(declared, name)) {
          out.push(`${at}.required: "${name}" is not declared in properties`);
        }
      }
    }
  }
  if (items !== undefined) {
    if (Array.isArray(items)) {
      for (const [i, child] of items.entries()) checkNode(child, `${at}.items[${i}]`, out);
    } else checkNode(items, `${at}.items`, out);
  }
  if (additionalProperties !== undefined) checkNode(additionalProperties, `${at}.additionalProperties`, out);
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const list = node[keyword];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) {
      out.push(`${at}.${keyword}: must be a non-empty array of schemas`);
      continue;
    }
    for (const [i, child] of list.entries()) checkNode(child, `${at}.${keyword}[${i}]`, out);
  }
  for (const keyword of SCHEMA_KEYWORDS) {
    if (node[keyword] !== undefined) checkNode(node[keyword], `${at}.${keyword}`, out);
  }
}

/**
 * Problems of a tool `parameters` schema, one sentence each; empty when it is well-formed. The top
 * level must be `type: "object"` (function calling requires it), every `required` name must be
 * declared in `properties`, and the document must be plain JSON.
 */
export function toolParametersProblems(schema: unknown, at = "parameters"): string[] {
  const out: string[] = [];
  if (!isPlainObject(schema)) return [`${at}: must be an object`];
  if (schema.type !== "object") out.push(`${at}.type: must be "object", got ${JSON.stringify(schema.type)}`);
  if (schema.properties !== undefined && !isPlainObject(schema.properties)) {
    out.push(`${at}.properties: must be an object of schemas`);
  }
  // Checked first: the structural walk below assumes a finite, plain tree.
  const nonJson = findNonJson(schema, at);
  if (nonJson !== undefined) return [...out, `${nonJson}: is not plain JSON`];
  checkNode(schema, at, out);
  return out;
}
