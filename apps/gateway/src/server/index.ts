export * from "./build-gateway-server.js";
export * from "./gateway-metrics.js";
