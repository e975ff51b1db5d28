/** The agent runtime: one `Agent` per session, its turn result and event types. */
export * from "./agent.js";
export type * from "./agent-types.js";
