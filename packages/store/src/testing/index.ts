/**
 * Test harness for packages that use `@engram/store` (subpath `@engram/store/testing`): the backends
 * to run on, an isolated database per file, clearing between tests and one `describe` per backend.
 * `describeEachBackend` imports `vitest` (an optional peer dependency).
 */
export * from "./create-test-database.js";
export * from "./describe-each-backend.js";
export * from "./pglite-template.js";
export * from "./scratch-server-database.js";
export * from "./test-backends.js";
export * from "./transcript-store-conformance.js";
export * from "./truncate-all.js";
