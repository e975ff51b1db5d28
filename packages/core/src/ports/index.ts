/**
 * Ports: the storage contracts `@engram/store` implements (Postgres/PGlite) and core's in-memory
 * references implement for tests. Hosts depend on these interfaces, never on a backend.
 */
export * from "./transcript-store.js";
