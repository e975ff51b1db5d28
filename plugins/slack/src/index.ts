/**
 * @engram/adapter-slack — the Slack platform (Events API over HTTP) as an Engram plugin (default export).
 */
export * from "./slack-adapter.js";
export * from "./slack-event.js";
export type { SlackAdapterConfig } from "./slack-plugin.js";
export { default, slackAdapterConfigSchema } from "./slack-plugin.js";
export * from "./slack-signature.js";
