import { InvalidIdError } from "../errors/index.js";
import { findIdViolation } from "./safe-id.js";
import type { SessionSource } from "./session-source.js";

/** The namespace slot every key starts with when no (or the default) profile is in use. */
export const DEFAULT_KEY_NAMESPACE = "agent:main";

/** Upper bound on a whole session key: a handful of segments of at most 256 characters each. */
export const MAX_SESSION_KEY_LENGTH = 2048;

export interface SessionIsolationProps {
  /** Give each participant of a non-thread group/channel their own session. Default `true`. */
  readonly groupSessionsPerUser?: boolean;
  /** Give each participant of a thread their own session. Default `false`: threads are shared. */
  readonly threadSessionsPerUser?: boolean;
}

export interface SessionKeyProps extends SessionIsolationProps {
  /**
   * Profile whose namespace the key lives in. Absent, `""` or `"default"` yields the historical
   * `agent:main` namespace, byte-identical to keys minted before profiles existed.
   */
  readonly profile?: string | undefined;
  /**
   * Maps a user identity (a DM `chatId`, or a participant id) to its canonical form. Some platforms
   * show one person under several ids (WhatsApp phone JID vs LID); resolving that needs alias tables
   * the host owns, so it is injected. Returning `""`/`undefined` for a DM chat id means "no usable
   * chat id"; for a participant id the raw id is kept. Default: identity.
   */
  readonly canonicalIdentity?: (platform: string, id: string) => string | undefined;
}

/** `agent:main` for the default profile, `agent:<profile>` otherwise; same positional layout either way. */
export function sessionKeyNamespace(profile?: string): string {
  if (!profile || profile === "default") return DEFAULT_KEY_NAMESPACE;
  return `agent:${profile}`;
}

/**
 * Whether a non-DM conversation is shared by several participants (so the prompt must not pin one
 * user's name). Mirrors {@link buildSessionKey}: DMs never are; threads are unless
 * `threadSessionsPerUser`; other groups/channels are unless `groupSessionsPerUser` (default on).
 */
export function isSharedMultiUserSession(source: SessionSource, props: SessionIsolationProps = {}): boolean {
  const { groupSessionsPerUser = true, threadSessionsPerUser = false } = props;
  if (source.chatType === "dm") return false;
  if (source.threadId) return !threadSessionsPerUser;
  return !groupSessionsPerUser;
}

/**
 * The deterministic routing key of the conversation a message belongs to: the single source of truth
 * for which messages share a session. Layout: `<namespace>:<platform>:<chatType>:...`.
 *
 * DMs: `...:dm:<chatId>[:<threadId>]`; without a chat id the sender (`userIdAlt` before `userId`)
 * stands in, so two people's DMs never collapse into one session; with neither, `...:dm:<threadId>`,
 * and finally one `...:dm` sink per platform.
 *
 * Groups, channels, threads: `...:<chatType>[:<chatId>][:<threadId>][:<participant>]`. The participant
 * (`userIdAlt` before `userId`) is appended when isolation applies: in threads only with
 * `threadSessionsPerUser`, elsewhere with `groupSessionsPerUser` (default on).
 *
 * @throws InvalidIdError when the key would not be path-safe (a hand-built source carrying `/`, `..`,
 *   control characters, ...), or when the profile or platform contains `:` and would shift the
 *   positional layout; sources from `parseSessionSource` never trigger this.
 */
export function buildSessionKey(source: SessionSource, props: SessionKeyProps = {}): string {
  // Positional readers take parts[1] as the namespace and parts[2] as the platform; a colon in either
  // would shift every later segment.
  if (props.profile?.includes(":")) throw new InvalidIdError("profile", props.profile, "contains ':'");
  if (source.platform.includes(":") || source.platform === "") {
    throw new InvalidIdError("platform", source.platform, "empty or contains ':'");
  }
  const key = composeSessionKey(source, props);
  const violation = findIdViolation(key, { maxLength: MAX_SESSION_KEY_LENGTH });
  if (violation !== undefined) throw new InvalidIdError("session key", key, violation);
  return key;
}

function composeSessionKey(source: SessionSource, props: SessionKeyProps): string {
  const { groupSessionsPerUser = true, threadSessionsPerUser = false, canonicalIdentity } = props;
  const { platform, threadId } = source;
  const prefix = `${sessionKeyNamespace(props.profile)}:${platform}`;
  const canonical = (id: string): string | undefined =>
    canonicalIdentity ? canonicalIdentity(platform, id) : id;
  const rawParticipant = source.userIdAlt || source.userId;
  const participant = rawParticipant ? canonical(rawParticipant) || rawParticipant : undefined;

  if (source.chatType === "dm") {
    // Fallback chain: the chat, then the sender, then the thread, then one per-platform sink.
    const dmId = (source.chatId ? canonical(source.chatId) : undefined) || participant;
    if (dmId) return threadId ? `${prefix}:dm:${dmId}:${threadId}` : `${prefix}:dm:${dmId}`;
    return threadId ? `${prefix}:dm:${threadId}` : `${prefix}:dm`;
  }

  const parts = [prefix, source.chatType];
  if (source.chatId) parts.push(source.chatId);
  if (threadId) parts.push(threadId);
  // Threads are shared by default: everyone in a forum topic or Discord thread sees one conversation.
  const isolateUser = threadId ? threadSessionsPerUser : groupSessionsPerUser;
  if (isolateUser && participant) parts.push(participant);
  return parts.join(":");
}

/** Inputs of {@link resolveKeyProfile}. */
export interface KeyProfileProps {
  /** Whether this gateway multiplexes several profiles; off keeps every key in `agent:main`. */
  readonly multiplexProfiles: boolean;
  readonly source?: SessionSource | undefined;
  /** The gateway's active profile, used when the source names none. */
  readonly activeProfile?: string | undefined;
}

/**
 * The profile to pass to {@link buildSessionKey}: none unless profiles are multiplexed; then the one
 * the message was routed to, else the active profile, else `"default"`.
 */
export function resolveKeyProfile(props: KeyProfileProps): string | undefined {
  if (!props.multiplexProfiles) return undefined;
  return props.source?.profile || props.activeProfile || "default";
}
