/**
 * @engram/gateway — messaging gateway: inbound platform messages -> sessions -> agent -> memory.
 * Each area has its own index; this file is the table of contents. `main.ts` is the executable.
 */
export * from "./adapters/index.js";
export * from "./app/index.js";
export * from "./config/index.js";
export * from "./db/index.js";
export * from "./restart/index.js";
export * from "./routing/index.js";
export * from "./server/index.js";
export * from "./turns/index.js";
