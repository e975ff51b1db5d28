export * from "./postgres-archive-store.js";
export * from "./postgres-session-state-store.js";
