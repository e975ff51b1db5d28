/**
 * @engram/core — contracts and pure lifecycle logic. No I/O, no database.
 * Each area has its own index; this file is the table of contents.
 */
export * from "./commit/index.js";
export * from "./errors/index.js";
export * from "./gateway/index.js";
export * from "./input/index.js";
export * from "./memory/index.js";
export * from "./plugin/index.js";
export * from "./ports/index.js";
