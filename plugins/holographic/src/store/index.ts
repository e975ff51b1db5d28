export * from "./entity-resolution.js";
export * from "./fact-index.js";
export * from "./fact-input.js";
export * from "./holographic-fact-store.js";
export * from "./holographic-stores.js";
export * from "./memory-scope.js";
export type * from "./types.js";
export * from "./vector-codec.js";
