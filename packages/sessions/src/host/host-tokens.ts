/**
 * Tokens of what a host registers besides core's contracts and the store's ports. `Symbol.for`, so two
 * copies of this package loaded by mistake still agree on them.
 */

/** The host's default `ChatModel` (`@engram/agent`), resolved by every app that runs agents. */
export const CHAT_MODEL: unique symbol = Symbol.for("engram.sessions.ChatModel");
