/** Memory-provider plugins named in configuration: loading by package name, installing, probing. */

export * from "./install-adapter-plugins.js";
export * from "./install-memory-plugins.js";
export * from "./load-plugin.js";
