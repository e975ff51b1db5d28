/**
 * @engram/provider-hindsight — a memory provider backed by a Hindsight server (retain / recall /
 * reflect over banks). Each area has its own index; the default export is the plugin hosts load.
 */
import { hindsightPlugin } from "./plugin/hindsight-plugin.js";

export * from "./client/index.js";
export * from "./config/index.js";
export * from "./plugin/index.js";
export * from "./provider/index.js";
export default hindsightPlugin;
