/**
 * @engram/gateway — messaging gateway: inbound platform messages -> sessions -> agent -> memory.
 * The session runtime itself is `@engram/sessions`; platform adapters are plugins
 * (`PlatformAdapter` in `@engram/sessions`, Telegram in `@engram/adapter-telegram`); this package holds
 * the configuration, HTTP (mounting each adapter's routes) and the composition root. Each area has its own index; this file is the table
 * of contents. `main.ts` is the executable.
 */
export * from "./app/index.js";
export * from "./config/index.js";
export * from "./server/index.js";
