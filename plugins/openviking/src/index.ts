/**
 * @engram/provider-openviking — a memory provider backed by an OpenViking server: the HTTP client
 * (envelope, typed errors, timeouts, bounded retries, health probe) and the provider with its tools.
 */
export * from "./client/index.js";
export * from "./provider/index.js";
