/**
 * @engram/provider-openviking — a memory provider backed by an OpenViking server: the HTTP client
 * (envelope, typed errors, timeouts, bounded retries, health probe), the provider with its tools, the
 * durable pending-commit journal with its migration, and the plugin hosts load (the default export).
 */
import { openVikingPlugin } from "./plugin/openviking-plugin.js";

export * from "./client/index.js";
export * from "./db/index.js";
export * from "./journal/index.js";
export * from "./plugin/index.js";
export * from "./provider/index.js";
export default openVikingPlugin;
