export * from "./clock-file.js";
export * from "./e2e-database.js";
export * from "./e2e-gateway.js";
export * from "./ensure-built.js";
export * from "./gateway-process.js";
export * from "./stand-in-model.js";
