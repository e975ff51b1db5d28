/**
 * A stand-in OpenViking server (the public `/api/v1` wire contract) for tests over real HTTP, built on
 * core's session buffer and, when given a database, durable in PostgreSQL / PGlite.
 */
export * from "./memory-record-store.js";
export * from "./memory-uris.js";
export * from "./postgres-memory-record-store.js";
export * from "./start-openviking-server.js";
export * from "./wire-errors.js";
export * from "./wire-messages.js";
