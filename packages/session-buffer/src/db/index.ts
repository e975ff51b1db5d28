export * from "./migrations/index.js";
export * from "./schema/index.js";
