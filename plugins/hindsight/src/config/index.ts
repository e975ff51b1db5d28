/** Configuration of the Hindsight provider: validation and bank-id templates. */
export * from "./bank-id-template.js";
export * from "./hindsight-config.js";
