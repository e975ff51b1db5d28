export * from "./chat-service.js";
export * from "./chat-streams.js";
