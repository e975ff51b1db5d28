export * from "./entity-name.js";
export * from "./extract-entities.js";
export * from "./parse-aliases.js";
