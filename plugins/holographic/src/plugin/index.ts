export * from "./holographic-config.js";
export * from "./holographic-memory.js";
export * from "./holographic-plugin.js";
