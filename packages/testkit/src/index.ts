/**
 * @engram/testkit: helpers for testing Engram hosts and providers. Stand-in servers live behind
 * subpath exports (`@engram/testkit/openai-server`) so importing the root never starts a server.
 */
export * from "./clock/index.js";
export * from "./conformance/index.js";
export * from "./recording/index.js";
export * from "./reference/index.js";
