export * from "./agent-cache.js";
