/**
 * @engram/provider-holographic — a local fact store with entities, trust scores and holographic
 * (phase-vector HRR) retrieval, and the memory provider and plugin built on it. Each area has its own
 * index; this file is the table of contents. The default export is the plugin hosts load.
 */
import { holographicPlugin } from "./plugin/holographic-plugin.js";

export * from "./db/index.js";
export * from "./extraction/index.js";
export * from "./hrr/index.js";
export * from "./plugin/index.js";
export * from "./provider/index.js";
export * from "./retrieval/index.js";
export * from "./store/index.js";
export default holographicPlugin;
