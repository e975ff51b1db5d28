export * from "./create-gateway.js";
export * from "./offset-file-clock.js";
