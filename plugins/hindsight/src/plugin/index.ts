export * from "./hindsight-plugin.js";
