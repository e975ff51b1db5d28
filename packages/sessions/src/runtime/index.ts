export * from "./commit-records.js";
export type * from "./runtime-observer.js";
export * from "./session-runtime.js";
