/**
 * The adapter conformance kit: what every platform adapter must do (source mapping per chat type,
 * redelivery dedupe, reply splitting, failures answered in the chat, unsaved events left for
 * redelivery, forged events refused), against the author's stand-in of the platform.
 */
export * from "./adapter-conformance-checks.js";
export type * from "./adapter-test-initializer.js";
