export * from "./session-router.js";
