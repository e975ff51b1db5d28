export * from "./engram-error.js";
export * from "./error-codes.js";
export * from "./invalid-config-error.js";
export * from "./port-in-use-error.js";
