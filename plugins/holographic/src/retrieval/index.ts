export * from "./contradiction.js";
export * from "./full-text.js";
export * from "./fused-score.js";
export * from "./jaccard.js";
export * from "./temporal-decay.js";
export * from "./tokenize.js";
export * from "./trust.js";
