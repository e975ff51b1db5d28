/**
 * @engram/provider-holographic — a local fact store with entities, trust scores and holographic
 * (phase-vector HRR) retrieval. Each area has its own index; this file is the table of contents.
 */
export * from "./db/index.js";
export * from "./extraction/index.js";
export * from "./hrr/index.js";
export * from "./retrieval/index.js";
export * from "./store/index.js";
