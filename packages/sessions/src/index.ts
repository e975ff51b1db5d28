/**
 * @engram/sessions — what every Engram host shares: the host configuration (`engram.config.json`,
 * its JSON Schema), memory-provider plugins loaded by package name, the dependency-injection
 * composition (one root container per host, one child container per session) and the session
 * runtime (router, turn pipeline, commands, expiry sweep, restart recovery).
 * Each area has its own index; this file is the table of contents.
 */
export * from "./adapters/index.js";
export * from "./commands/index.js";
export * from "./config/index.js";
export * from "./db/index.js";
export * from "./host/index.js";
export * from "./plugins/index.js";
export * from "./restart/index.js";
export * from "./routing/index.js";
export * from "./runtime/index.js";
export * from "./turns/index.js";
