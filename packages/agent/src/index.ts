/** @engram/agent: the agent runtime, its model clients and context compression. */
export * from "./agent/index.js";
export * from "./cache/index.js";
export * from "./compression/index.js";
export * from "./model/index.js";
