import { InvalidArgumentError, InvalidIdError } from "../errors/index.js";
import { findTextViolation } from "../input/storable-text.js";
import { findKeySegmentViolation } from "./safe-id.js";

/** The kinds of conversation a platform message can come from. */
export const CHAT_TYPES = ["dm", "group", "channel", "thread"] as const;
export type ChatType = (typeof CHAT_TYPES)[number];

export function isChatType(value: unknown): value is ChatType {
  return typeof value === "string" && (CHAT_TYPES as readonly string[]).includes(value);
}

/** The platform name of the local CLI; it has no chat, user or delivery target. */
export const LOCAL_PLATFORM = "local";

/**
 * Where an inbound message came from. Used to route replies, to build the session key and to tell
 * the model where it is. Id fields are opaque strings; `chatId` may be `""` when an adapter has no
 * chat id (session keys then fall back to the sender, see `buildSessionKey`).
 */
export interface SessionSource {
  /** Lower-case platform name (`telegram`, `discord`, `slack`, `local`, ...). */
  readonly platform: string;
  readonly chatId: string;
  readonly chatName?: string;
  readonly chatType: ChatType;
  readonly userId?: string;
  readonly userName?: string;
  /** Forum topic, Discord/Slack thread and the like. */
  readonly threadId?: string;
  /** Channel topic or description (Discord, Slack). Untrusted free text. */
  readonly chatTopic?: string;
  /** Platform-specific stable alternative user id (Signal UUID, Feishu union_id); preferred over `userId` for keys. */
  readonly userIdAlt?: string;
  /** Platform-internal alternative chat id (Signal group id). */
  readonly chatIdAlt?: string;
  /** Server/workspace discriminator (Discord guild, Slack workspace, Matrix server). Wire alias: `guild_id`. */
  readonly scopeId?: string;
  /** Parent channel when `chatId` names a thread. */
  readonly parentChatId?: string;
  /** Id of the triggering message (reply, pin, react). */
  readonly messageId?: string;
  /** Profile the message is routed to in a multiplexing gateway; absent means the default profile. */
  readonly profile?: string;
}

/** The persisted / wire shape of a {@link SessionSource} (snake_case, as peers exchange it). */
export interface SessionSourceRecord {
  platform: string;
  chat_id: string;
  chat_name: string | null;
  chat_type: ChatType;
  user_id: string | null;
  user_name: string | null;
  thread_id: string | null;
  chat_topic: string | null;
  user_id_alt?: string;
  chat_id_alt?: string;
  scope_id?: string;
  /** @deprecated legacy alias of `scope_id`, still written so peers that have not migrated resolve the scope. */
  guild_id?: string;
  parent_chat_id?: string;
  message_id?: string;
  profile?: string;
}

const PLATFORM_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const MAX_TEXT_LENGTH = 4096;

type IdField = "chatId" | "userId" | "threadId" | "userIdAlt" | "chatIdAlt" | "parentChatId" | "messageId";
type TextField = "chatName" | "userName" | "chatTopic";

const OPTIONAL_ID_FIELDS: ReadonlyArray<readonly [IdField, string]> = [
  ["userId", "user_id"],
  ["threadId", "thread_id"],
  ["userIdAlt", "user_id_alt"],
  ["chatIdAlt", "chat_id_alt"],
  ["parentChatId", "parent_chat_id"],
  ["messageId", "message_id"],
];
const TEXT_FIELDS: ReadonlyArray<readonly [TextField, string]> = [
  ["chatName", "chat_name"],
  ["userName", "user_name"],
  ["chatTopic", "chat_topic"],
];

function pick(record: Record<string, unknown>, camel: string, snake: string): unknown {
  const value = record[camel];
  return value === undefined || value === null ? record[snake] : value;
}

/** Ids arrive as numbers from some platform SDKs (Telegram); they are opaque strings from here on. */
function readId(field: string, value: unknown, { allowEmpty }: { allowEmpty: boolean }): string | undefined {
  if (value === undefined || value === null) return undefined;
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) text = String(value);
  else if (typeof value === "bigint") text = value.toString();
  else throw new InvalidArgumentError(field, "must be a string or an integer id");
  if (text === "") {
    if (allowEmpty) return text;
    return undefined;
  }
  const violation = findKeySegmentViolation(text);
  if (violation !== undefined) throw new InvalidIdError(field, text, violation);
  return text;
}

function readText(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string");
  if (value.length > MAX_TEXT_LENGTH)
    throw new InvalidArgumentError(field, `must be at most ${MAX_TEXT_LENGTH} characters`);
  // Names are stored with the route (jsonb): refused rather than altered, like an id.
  const violation = findTextViolation(value);
  if (violation !== undefined) throw new InvalidArgumentError(field, `must not contain a ${violation}`);
  return value === "" ? undefined : value;
}

/**
 * Validates untrusted input (an adapter event, a persisted record, a peer's wire message) into a
 * {@link SessionSource}. Accepts camelCase or the snake_case wire names; `scope_id` wins over the
 * legacy `guild_id`. `chatType` defaults to `"dm"`; empty optional strings are dropped.
 *
 * @throws InvalidArgumentError when the shape is wrong (not an object, missing `platform`/`chatId`,
 *   unknown chat type, non-string names, names holding a NUL or an unpaired surrogate).
 * @throws InvalidIdError when an id is unsafe to embed in a session key (`/`, `\`, `..`, control
 *   characters, unpaired surrogates, over 256 characters).
 */
export function parseSessionSource(input: unknown): SessionSource {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError("source", "must be an object");
  }
  const record = input as Record<string, unknown>;

  const platform = record.platform;
  if (typeof platform !== "string" || !PLATFORM_NAME.test(platform)) {
    throw new InvalidArgumentError(
      "platform",
      "must be a lower-case platform name matching [a-z][a-z0-9_-]{0,63}",
    );
  }

  const rawChatId = pick(record, "chatId", "chat_id");
  if (rawChatId === undefined || rawChatId === null) {
    throw new InvalidArgumentError("chatId", "is required (use an empty string when the platform has none)");
  }
  const chatId = readId("chatId", rawChatId, { allowEmpty: true }) ?? "";

  const rawChatType = pick(record, "chatType", "chat_type") ?? "dm";
  if (!isChatType(rawChatType)) {
    throw new InvalidArgumentError("chatType", `must be one of ${CHAT_TYPES.join(", ")}`);
  }

  const source: { -readonly [K in keyof SessionSource]: SessionSource[K] } = {
    platform,
    chatId,
    chatType: rawChatType,
  };
  for (const [camel, snake] of OPTIONAL_ID_FIELDS) {
    const value = readId(camel, pick(record, camel, snake), { allowEmpty: false });
    if (value !== undefined) source[camel] = value;
  }
  for (const [camel, snake] of TEXT_FIELDS) {
    const value = readText(camel, pick(record, camel, snake));
    if (value !== undefined) source[camel] = value;
  }
  // Dual read during the scope_id migration: the canonical name wins, the legacy alias is the fallback.
  const scopeId = readId(
    "scopeId",
    pick(record, "scopeId", "scope_id") ?? record.guild_id ?? record.guildId,
    {
      allowEmpty: false,
    },
  );
  if (scopeId !== undefined) source.scopeId = scopeId;
  const profile = readId("profile", record.profile, { allowEmpty: false });
  if (profile !== undefined) source.profile = profile;
  return source;
}

/**
 * The snake_case record peers and stores exchange. Writes both `scope_id` and its legacy alias
 * `guild_id`. Trust flags a transport sets locally are deliberately not part of this shape, so a peer
 * can never forge them across the wire.
 */
export function toSessionSourceRecord(source: SessionSource): SessionSourceRecord {
  const record: SessionSourceRecord = {
    platform: source.platform,
    chat_id: source.chatId,
    chat_name: source.chatName ?? null,
    chat_type: source.chatType,
    user_id: source.userId ?? null,
    user_name: source.userName ?? null,
    thread_id: source.threadId ?? null,
    chat_topic: source.chatTopic ?? null,
  };
  if (source.userIdAlt) record.user_id_alt = source.userIdAlt;
  if (source.chatIdAlt) record.chat_id_alt = source.chatIdAlt;
  if (source.scopeId) {
    record.scope_id = source.scopeId;
    record.guild_id = source.scopeId;
  }
  if (source.parentChatId) record.parent_chat_id = source.parentChatId;
  if (source.messageId) record.message_id = source.messageId;
  if (source.profile) record.profile = source.profile;
  return record;
}
