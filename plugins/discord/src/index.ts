/**
 * @engram/adapter-discord — the Discord platform (gateway WebSocket + REST) as an Engram plugin (default export).
 */
export * from "./discord-adapter.js";
export * from "./discord-message.js";
export type { DiscordAdapterConfig } from "./discord-plugin.js";
export { default, discordAdapterConfigSchema } from "./discord-plugin.js";
