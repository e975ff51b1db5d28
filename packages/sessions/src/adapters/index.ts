/**
 * Platform adapters: the contract a messaging platform implements (`PlatformAdapter`), the token its
 * plugin registers factories under, and what every adapter shares (failure replies, reply splitting).
 */
export * from "./failure-reply.js";
export * from "./platform-adapter.js";
export * from "./split-message-text.js";
