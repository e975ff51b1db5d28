/**
 * The memory-provider conformance kit: an initializer type, the checks as plain async functions, a
 * runner that needs no test framework, and Vitest suites (`describeMemoryProvider` and one per
 * capability) built on them.
 */
export * from "./check-result.js";
export * from "./conformance-checks.js";
export * from "./describe-memory-provider.js";
export * from "./invalid-tool-arguments.js";
export * from "./json-schema-shape.js";
export * from "./json-value-check.js";
export * from "./network-guard.js";
export * from "./provider-harness.js";
export type * from "./provider-test-initializer.js";
export * from "./run-conformance.js";
