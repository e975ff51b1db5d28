export * from "./split-message-text.js";
export * from "./telegram-adapter.js";
export * from "./telegram-bot-api.js";
export * from "./telegram-update.js";
