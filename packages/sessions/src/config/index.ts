/** The host configuration file (`engram.config.json`): schema, JSON Schema, loading, problems. */
export * from "./engram-config.js";
export * from "./load-engram-config.js";
export * from "./startup-problem.js";
