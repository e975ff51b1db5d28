/** Context compression: the compressor contract, the deterministic default and the model-backed one. */
export * from "./compressor.js";
export * from "./model-compressor.js";
export * from "./summary-compressor.js";
export * from "./token-estimate.js";
