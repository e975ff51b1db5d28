/**
 * @engram/gateway — messaging gateway: inbound platform messages -> sessions -> agent -> memory.
 * The session runtime itself is `@engram/sessions`; this package holds the platform adapters, the
 * configuration, HTTP and the composition root. Each area has its own index; this file is the table
 * of contents. `main.ts` is the executable.
 */
export * from "./adapters/index.js";
export * from "./app/index.js";
export * from "./config/index.js";
export * from "./server/index.js";
