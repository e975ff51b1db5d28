/** The composition every host shares: the root container, the composed host, per-session memory. */
export * from "./compose-host.js";
export * from "./engram-host.js";
export * from "./format-host-summary.js";
export * from "./host-tokens.js";
export * from "./session-memory.js";
