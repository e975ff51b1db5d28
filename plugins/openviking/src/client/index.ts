export * from "./openviking-client.js";
export * from "./openviking-error.js";
