/**
 * @engram/gateway — messaging gateway: inbound platform messages -> sessions -> agent -> memory.
 * Each area has its own index; this file is the table of contents.
 */
export * from "./routing/index.js";
export * from "./turns/index.js";
