export * from "./auto-extract.js";
export * from "./fact-tools.js";
export * from "./holographic-provider.js";
