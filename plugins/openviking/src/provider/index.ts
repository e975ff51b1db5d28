export * from "./openviking-memory-provider.js";
export * from "./recall-ranking.js";
export * from "./viking-tools.js";
