export * from "./archive-store.js";
export * from "./in-memory-archive-store.js";
