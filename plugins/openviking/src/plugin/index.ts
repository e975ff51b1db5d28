export * from "./openviking-config.js";
export * from "./openviking-plugin.js";
