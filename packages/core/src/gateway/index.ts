/**
 * Gateway policy: pure functions that decide how platform messages map to sessions (keys, reset
 * policies, resume and recovery), what the model is told about where it is (context prompt, PII
 * hashing, untrusted-value quoting) and which ids are safe to use as paths. No I/O: time arrives as
 * epoch ms from an injected `Clock`, local time as an injected UTC offset, randomness as an argument.
 */
export * from "./clock.js";
export * from "./compression-tip.js";
export * from "./end-reasons.js";
export * from "./memory-scope.js";
export * from "./model-override.js";
export * from "./pii-redaction.js";
export * from "./reset-policy.js";
export * from "./safe-id.js";
export * from "./session-context-prompt.js";
export * from "./session-continuity.js";
export * from "./session-id.js";
export * from "./session-key.js";
export * from "./session-source.js";
export * from "./sha256.js";
export * from "./untrusted-value.js";
