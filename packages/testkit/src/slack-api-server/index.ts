/** A stand-in Slack Web API (`auth.test`, `chat.postMessage`, 429s) and signed Events API requests. */
export * from "./start-slack-api-server.js";
