import { findKeySegmentViolation, InvalidIdError } from "@engram/core";

/** The scope of a store opened without one, and of every fact written before scopes existed. */
export const DEFAULT_MEMORY_SCOPE = "default";

/** Longest scope accepted: room for a platform, a kind and two 256-character ids with separators. */
export const MAX_MEMORY_SCOPE_LENGTH = 1024;

/**
 * Checks a memory scope name: a non-empty string of at most {@link MAX_MEMORY_SCOPE_LENGTH} characters
 * without control characters, `..`, `/` or `\` (the rules of a session-key segment, so `:`-separated
 * names such as `telegram:user:42` are fine). Scopes end up in logs and metrics labels; nothing
 * hostile belongs there.
 *
 * @throws InvalidIdError (code `INVALID_ID`) naming the broken rule.
 */
export function assertMemoryScope(scope: unknown): string {
  const violation = findKeySegmentViolation(scope, { maxLength: MAX_MEMORY_SCOPE_LENGTH });
  if (violation !== undefined) throw new InvalidIdError("memory scope", scope, violation);
  return scope as string;
}
