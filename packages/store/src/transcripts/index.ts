export * from "./postgres-transcript-store.js";
export * from "./transcript-notifications.js";
