export * from "./agent-turn-runner.js";
export * from "./echo-turn-runner.js";
export * from "./keyed-serial-queue.js";
export * from "./reset-notices.js";
export * from "./session-expiry-watcher.js";
export * from "./session-turn-handler.js";
export type * from "./turn-reply.js";
export type * from "./turn-runner.js";
