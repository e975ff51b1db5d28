export * from "./cached-web-session-store.js";
export * from "./postgres-web-session-store.js";
