import { InvalidIdError } from "../errors/index.js";
import { findKeySegmentViolation } from "./safe-id.js";
import { isSharedMultiUserSession, type SessionIsolationProps } from "./session-key.js";
import type { SessionSource } from "./session-source.js";

/** Longest memory scope produced: platform, kind and up to two 256-character ids with separators. */
export const MAX_MEMORY_SCOPE_LENGTH = 1024;

export interface MemoryScopeProps extends SessionIsolationProps {
  /**
   * Maps a user id to its canonical form, as for `buildSessionKey`, so one person seen under two ids
   * (WhatsApp phone JID vs LID) keeps one memory. Returning `""`/`undefined` keeps the raw id.
   * Default: identity.
   */
  readonly canonicalIdentity?: (platform: string, id: string) => string | undefined;
}

/**
 * The long-term memory scope of a gateway session: whose facts its agent may recall and where facts
 * it learns are stored. Pure: the same source and isolation always give the same scope.
 *
 * - A session that belongs to one person (a DM; a group or channel with `groupSessionsPerUser`, the
 *   default; a thread with `threadSessionsPerUser`) is scoped to that person across all their chats:
 *   `<platform>:user:<userIdAlt ?? userId>`. A preference told in a DM is known in the groups where the
 *   same person has their own session, and the other way round, because it is theirs.
 * - A shared session (a thread without `threadSessionsPerUser`, the default; a group or channel without
 *   `groupSessionsPerUser`) is scoped to the room: `<platform>:chat:<chatId>[:<threadId>]`. Everyone
 *   there sees one conversation, so what it learns belongs to the room, never to one member's personal
 *   memory, and nothing personal is recalled into it.
 * - A personal session whose source carries no user id falls back to the chat, like the room case
 *   (for a DM, the chat is that one person's anyway).
 *
 * Scopes are per platform: ids of two platforms are unrelated, so the same number on Telegram and on
 * Discord is two people.
 *
 * @throws InvalidIdError (code `INVALID_ID`) when the platform is empty or holds `:`, or the scope
 *   would be unsafe (ids with `/`, `..`, control characters; over {@link MAX_MEMORY_SCOPE_LENGTH});
 *   sources from `parseSessionSource` never trigger this.
 */
export function memoryScopeFor(source: SessionSource, props: MemoryScopeProps = {}): string {
  // The platform is the first segment: a colon in it would let one platform's scopes collide with another's.
  if (source.platform === "" || source.platform.includes(":")) {
    throw new InvalidIdError("platform", source.platform, "empty or contains ':'");
  }
  const scope = composeMemoryScope(source, props);
  const violation = findKeySegmentViolation(scope, { maxLength: MAX_MEMORY_SCOPE_LENGTH });
  if (violation !== undefined) throw new InvalidIdError("memory scope", scope, violation);
  return scope;
}

function composeMemoryScope(source: SessionSource, props: MemoryScopeProps): string {
  const { platform, chatId, threadId } = source;
  const rawUser = source.userIdAlt || source.userId;
  const user = rawUser ? props.canonicalIdentity?.(platform, rawUser) || rawUser : undefined;
  if (!isSharedMultiUserSession(source, props) && user) return `${platform}:user:${user}`;
  const parts = [platform, "chat"];
  if (chatId) parts.push(chatId);
  if (threadId) parts.push(threadId);
  return parts.join(":");
}
