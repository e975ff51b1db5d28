/**
 * @engram/web — the web server (sessions API, chat over Server-Sent Events, memory lifecycle, the
 * gateway's messaging sessions live) and its composition root.
 */
export * from "./app/index.js";
export * from "./chat/index.js";
export * from "./config/index.js";
export * from "./server/build-web-server.js";
export * from "./server/messaging-feed.js";
export * from "./server/web-auth.js";
