export * from "./machine.js";
export * from "./measure.js";
export * from "./pgbench.js";
export * from "./report.js";
