/** Test doubles that are real implementations: they record what a host did to them. */
export * from "./recording-memory-provider.js";
