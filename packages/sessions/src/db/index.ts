export * from "./migrations/index.js";
export type * from "./schema/index.js";
