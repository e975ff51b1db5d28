/** The typed HTTP client of Hindsight's API and its wire types. */
export * from "./hindsight-client.js";
export * from "./hindsight-request-error.js";
export * from "./hindsight-wire.js";
