export * from "./web-config.js";
