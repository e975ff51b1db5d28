export * from "./atom.js";
export * from "./bind.js";
export * from "./bundle.js";
export * from "./hrr-encoder.js";
export * from "./phase-accumulator.js";
export * from "./phase-vector.js";
export * from "./similarity.js";
