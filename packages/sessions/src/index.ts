/**
 * @engram/sessions — what every Engram host shares. Today: the host configuration
 * (`engram.config.json`, its JSON Schema), memory-provider plugins loaded by package name, and the
 * dependency-injection composition (one root container per host, one child container per session).
 * Each area has its own index; this file is the table of contents.
 */
export * from "./config/index.js";
export * from "./host/index.js";
export * from "./plugins/index.js";
