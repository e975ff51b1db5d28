export * from "./postgres-routing-index.js";
