/** The reference memory provider: in-memory, no network, passes the whole conformance kit. */
export * from "./in-memory-memory-provider.js";
export * from "./in-memory-memory-provider-initializer.js";
export * from "./in-memory-memory-store.js";
export * from "./memory-tools.js";
