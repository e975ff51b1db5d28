/**
 * @engram/adapter-telegram — the Telegram platform adapter as an Engram plugin (default export):
 * webhook or long polling, replies through the Bot API.
 */
export * from "./db/index.js";
export * from "./telegram-adapter.js";
export * from "./telegram-bot-api.js";
export type { TelegramAdapterConfig } from "./telegram-plugin.js";
export { default, telegramAdapterConfigSchema, telegramAdapterFactory } from "./telegram-plugin.js";
export * from "./telegram-update.js";
