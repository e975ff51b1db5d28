/** A stand-in Discord: REST (`/gateway/bot`, channels, messages) and a WebSocket gateway, on loopback. */
export * from "./start-discord-api-server.js";
