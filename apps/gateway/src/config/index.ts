export * from "./gateway-config.js";
