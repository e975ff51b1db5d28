export type * from "./platform-adapter.js";
