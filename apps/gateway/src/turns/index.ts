export * from "./echo-turn-runner.js";
export * from "./gateway-turn-handler.js";
export * from "./keyed-serial-queue.js";
export type * from "./turn-runner.js";
