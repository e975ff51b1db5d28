export type * from "./runtime-observer.js";
