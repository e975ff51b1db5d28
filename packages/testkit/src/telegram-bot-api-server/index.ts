/**
 * A stand-in Telegram Bot API server (`getMe`, `sendMessage`, `getUpdates`, `deleteWebhook`) for tests of Telegram adapters over real
 * HTTP, plus builders of the `Update`s Telegram posts to webhooks.
 */
export * from "./start-telegram-bot-api-server.js";
export * from "./telegram-updates.js";
