export * from "./postgres-restart-state-store.js";
export * from "./restart-recovery.js";
export type * from "./restart-state-store.js";
