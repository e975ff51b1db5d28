/**
 * @engram/store — Kysely schema, migrations and PostgreSQL/PGlite implementations of core's ports.
 * Each area has its own index; this file is the table of contents. Test helpers live on the
 * `@engram/store/testing` subpath.
 */
export * from "./commit-ledger/index.js";
export * from "./container/index.js";
export * from "./db/index.js";
export * from "./routing-index/index.js";
export * from "./transcripts/index.js";
export * from "./web-sessions/index.js";
