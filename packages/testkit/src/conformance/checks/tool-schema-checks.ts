import {
  DEFAULT_RESERVED_TOOL_NAMES,
  isToolSchema,
  MemoryManager,
  type MemoryProvider,
  type ToolSchema,
} from "@engram/core";
import { describeThrown, fail } from "../check-result.js";
import { toolParametersProblems } from "../json-schema-shape.js";
import { findNonJson } from "../json-value-check.js";
import { type ConformanceRun, runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";

/** Calls `getToolSchemas`, failing the check unless it returns an array. */
export function readToolSchemas<P extends MemoryProvider>(run: ConformanceRun<P>, when: string): unknown[] {
  let schemas: unknown;
  try {
    schemas = run.provider.getToolSchemas();
  } catch (error) {
    fail(`getToolSchemas threw ${when}: ${describeThrown(error)}`);
  }
  if (!Array.isArray(schemas)) fail(`getToolSchemas must return an array ${when}, got ${typeof schemas}`);
  return schemas;
}

function nameOf(schema: unknown): string {
  const name = (schema as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : JSON.stringify(name);
}

/**
 * Every schema has a valid name, a non-empty description and a structurally valid, plain-JSON
 * `parameters` schema of type object; a provider that declares `tools: false` offers none.
 */
export function toolSchemasAreValid<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const schemas = readToolSchemas(run, "before initialize");
    if (run.capabilities.tools !== true) {
      if (schemas.length > 0) fail(`declares tools: false but offers ${schemas.length} tool(s)`);
      return;
    }
    const problems: string[] = [];
    schemas.forEach((schema, i) => {
      const at = `tool ${i} (${nameOf(schema)})`;
      if (!isToolSchema(schema)) {
        problems.push(
          `${at}: needs a name matching ^[A-Za-z0-9_-]{1,64}$, a string description and object parameters`,
        );
      }
      const nonJson = findNonJson(schema);
      if (nonJson !== undefined) problems.push(`${at}: ${nonJson} is not plain JSON`);
      const description = (schema as Partial<ToolSchema> | null)?.description;
      if (typeof description === "string" && description.trim() === "")
        problems.push(`${at}: empty description`);
      for (const problem of toolParametersProblems((schema as Partial<ToolSchema> | null)?.parameters)) {
        problems.push(`${at}: ${problem}`);
      }
    });
    if (problems.length > 0) fail(problems.join("; "));
  });
}

/** Tool names are unique within the provider and none is reserved for core tools. */
export function toolNamesAreUnique<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const names = readToolSchemas(run, "before initialize").map(nameOf);
    const duplicates = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
    if (duplicates.length > 0) fail(`tool names declared more than once: ${duplicates.join(", ")}`);
    const reserved = names.filter((name) => DEFAULT_RESERVED_TOOL_NAMES.has(name));
    if (reserved.length > 0) fail(`tool names reserved for core tools: ${reserved.join(", ")}`);
  });
}

/** The same tool names before and after `initialize` and on every call (the contract's lifetime rule). */
export function toolSchemasAreStable<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const before = readToolSchemas(run, "before initialize").map(nameOf);
    await run.initialize(run.sessionId("stable"));
    const after = readToolSchemas(run, "after initialize").map(nameOf);
    const again = readToolSchemas(run, "on a second call").map(nameOf);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((name, i) => name === b[i]);
    if (!same(before, after) || !same(after, again)) {
      fail(
        `tool names changed: [${before}] before initialize, [${after}] after, [${again}] on the next call`,
      );
    }
    if (run.capabilities.tools === true && after.length === 0) fail("declares tools: true but offers none");
  });
}

/** A `MemoryManager` adds the provider and routes every declared tool, rejecting none. */
export function toolsRegisterWithManager<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const declared = readToolSchemas(run, "before registration").map(nameOf);
    const registration = new MemoryManager().addProvider(run.provider);
    if (!registration.added) fail(`MemoryManager refused the provider (${registration.refusal})`);
    if (registration.rejectedTools.length > 0) {
      const rejected = registration.rejectedTools.map(
        (t) => `${t.name ?? "(unnamed)"}: ${t.code} ${t.reason}`,
      );
      fail(`MemoryManager rejected tools: ${rejected.join("; ")}`);
    }
    if (registration.tools.length !== declared.length) {
      fail(`MemoryManager routes [${registration.tools}] of the declared [${declared}]`);
    }
  });
}
