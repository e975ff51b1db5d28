/**
 * The memory-provider conformance kit: an initializer type, the checks as plain async functions, a
 * runner that needs no test framework. The Vitest suites (`describeMemoryProvider` and one per
 * capability) live in `@engram/testkit/vitest`, so this entry never imports a test framework.
 */
export * from "./check-result.js";
export * from "./conformance-checks.js";
export * from "./invalid-tool-arguments.js";
export * from "./json-schema-shape.js";
export * from "./json-value-check.js";
export * from "./moved-to-vitest-entry.js";
export * from "./network-guard.js";
export * from "./provider-harness.js";
export type * from "./provider-test-initializer.js";
export * from "./run-conformance.js";
