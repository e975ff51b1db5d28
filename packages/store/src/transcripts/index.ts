export * from "./postgres-transcript-store.js";
