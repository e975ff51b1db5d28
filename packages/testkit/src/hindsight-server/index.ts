/**
 * A Hindsight-compatible server for tests and benchmarks (subpath `@engram/testkit/hindsight-server`):
 * real HTTP on 127.0.0.1, Hindsight's OpenAPI paths and shapes, memory in Postgres or PGlite.
 */

export * from "./db/migrate-hindsight-server.js";
export type * from "./db/schema.js";
export * from "./extraction.js";
export * from "./hindsight-memory-engine.js";
export * from "./hindsight-requests.js";
export * from "./hindsight-server.js";
export * from "./http/fastapi-errors.js";
export * from "./retrieval/reciprocal-rank-fusion.js";
export * from "./retrieval/temporal-window.js";
export * from "./retrieval/trigram-similarity.js";
