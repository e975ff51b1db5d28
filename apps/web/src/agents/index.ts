export * from "./web-agent-pool.js";
