/** Deterministic time for tests. */
export * from "./fake-clock.js";
