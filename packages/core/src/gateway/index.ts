export * from "./safe-id.js";
export * from "./session-source.js";
