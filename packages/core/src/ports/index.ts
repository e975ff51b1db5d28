/**
 * Ports: the storage contracts `@engram/store` implements (Postgres/PGlite) and core's in-memory
 * references implement for tests. Hosts depend on these interfaces, never on a backend.
 */
export * from "./in-memory-routing-index.js";
export * from "./in-memory-session-key-lock.js";
export * from "./in-memory-transcript-store.js";
export * from "./in-memory-web-session-store.js";
export * from "./routing-index.js";
export type * from "./session-key-lock.js";
export * from "./session-key-lock-lost-error.js";
export * from "./transcript-message.js";
export * from "./transcript-store.js";
export * from "./web-session-store.js";
