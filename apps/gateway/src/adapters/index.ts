export type * from "./platform-adapter.js";
export * from "./telegram/index.js";
