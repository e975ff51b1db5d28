/**
 * Plugins: `definePlugin` for authors, compatibility checks and `installPlugin` for hosts, and the DI
 * tokens through which plugins contribute services (memory-provider factories, clock, logger).
 */
export * from "./core-version.js";
export * from "./engram-plugin.js";
export * from "./install-plugin.js";
export type * from "./memory-provider-factory.js";
export * from "./plugin-compatibility.js";
export * from "./tokens.js";
