export * from "./machine.js";
export * from "./measure.js";
export * from "./report.js";
