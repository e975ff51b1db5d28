/**
 * Memory: the provider contract, the manager that fans hooks out to providers with isolation, the
 * `<memory-context>` fence, and the message/turn/tool shapes other packages share.
 */
export * from "./logger.js";
export * from "./memory-context.js";
export * from "./memory-errors.js";
export * from "./memory-inventory.js";
export * from "./memory-manager.js";
export * from "./memory-provider.js";
export * from "./tool-arguments.js";
export * from "./types.js";
