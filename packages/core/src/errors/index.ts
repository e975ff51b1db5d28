export * from "./engram-error.js";
export * from "./error-codes.js";
