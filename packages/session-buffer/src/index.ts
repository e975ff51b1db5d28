/**
 * @engram/session-buffer — the server-side session buffer of seed 001: per-session message buffers
 * committed in two phases to archives, durable session state, archive merging, compaction tokens and
 * idle eviction (`SessionBufferManager`), its storage ports with in-memory references, and their
 * PostgreSQL/PGlite implementations with this package's own migrations (`migrateSessionBuffer`).
 * Each area has its own index; this file is the table of contents.
 */
export * from "./buffer/index.js";
export * from "./db/index.js";
export * from "./ports/index.js";
export * from "./store/index.js";
