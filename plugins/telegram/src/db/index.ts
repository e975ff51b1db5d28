export * from "./migrations/index.js";
export * from "./telegram-offset-store.js";
