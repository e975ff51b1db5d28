/** The Hindsight memory provider, its tools and the serial writer behind `syncTurn`. */
export * from "./api-version.js";
export * from "./bounded.js";
export * from "./hindsight-provider.js";
export * from "./hindsight-tools.js";
export * from "./serial-writer.js";
