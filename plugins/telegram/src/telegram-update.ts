import { InvalidArgumentError, parseSessionSource, type SessionSource, toStorableText } from "@engram/core";
import { z } from "zod";

/** The `SessionSource.platform` of Telegram messages. */
export const TELEGRAM_PLATFORM = "telegram";

// Only the fields the gateway reads are validated; Telegram adds fields over time, so every object is
// loose (unknown keys pass) and a new chat type is ignored rather than refused (a refusal would make
// Telegram redeliver the update forever).
const telegramId = z.number().int().refine(Number.isSafeInteger, "must be a safe integer");

const telegramUserSchema = z.looseObject({
  id: telegramId,
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});

const telegramChatSchema = z.looseObject({
  id: telegramId,
  type: z.string(),
  title: z.string().optional(),
  username: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  is_forum: z.boolean().optional(),
});

const telegramMessageSchema = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int().nonnegative(),
  chat: telegramChatSchema,
  from: telegramUserSchema.optional(),
  sender_chat: telegramChatSchema.optional(),
  text: z.string().optional(),
  message_thread_id: z.number().int().optional(),
  is_topic_message: z.boolean().optional(),
});

/** The part of a Bot API `Update` the gateway reads (https://core.telegram.org/bots/api#update). */
export const telegramUpdateSchema = z.looseObject({
  update_id: z.number().int(),
  message: telegramMessageSchema.optional(),
  edited_message: z.unknown().optional(),
  channel_post: telegramMessageSchema.optional(),
  edited_channel_post: z.unknown().optional(),
});

export type TelegramUpdate = z.output<typeof telegramUpdateSchema>;
export type TelegramMessage = z.output<typeof telegramMessageSchema>;

/**
 * Validates a webhook body as an `Update`.
 *
 * @throws InvalidArgumentError listing every shape problem.
 */
export function parseTelegramUpdate(body: unknown): TelegramUpdate {
  const result = telegramUpdateSchema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new InvalidArgumentError("update", `is not a Telegram Update (${issues.join("; ")})`);
}

/** Where the reply to an inbound message goes. */
export interface TelegramReplyTarget {
  /** An integer id, or `@username` of a public channel. */
  readonly chatId: number | string;
  /** Forum topic the reply must be posted into. */
  readonly messageThreadId?: number;
  /** Quoted in groups, so participants see whom the bot answers. */
  readonly replyToMessageId?: number;
}

/** One text message of an update, ready for the gateway's turn pipeline. */
export interface TelegramInbound {
  readonly updateId: number;
  readonly source: SessionSource;
  readonly text: string;
  /** `${chat.id}:${message_id}`: Telegram numbers messages per chat, so the chat is part of the id. */
  readonly messageId: string;
  /** Epoch ms (Telegram sends seconds). */
  readonly timestamp: number;
  readonly replyTo: TelegramReplyTarget;
}

export interface TelegramInboundProps {
  /**
   * The bot's own username (from `getMe`). A command addressed to it (`/new@this_bot`) loses the
   * suffix so the gateway recognises it; a command addressed to another bot is ignored.
   */
  readonly botUsername?: string | undefined;
}

const ADDRESSED_COMMAND = /^(\/[A-Za-z0-9_]+)@([A-Za-z0-9_]+)(?=\s|$)/;

/**
 * Maps an update to the message the gateway handles, or `undefined` when there is none to handle:
 * no text (stickers, photos, service messages), edits, callback queries, unknown chat types, commands
 * for other bots. Chat types: `private` -> dm, `group`/`supergroup` -> group, a forum-topic message
 * (`is_topic_message` with `message_thread_id`) -> thread keyed by the topic, `channel` -> channel.
 *
 * @throws InvalidArgumentError / InvalidIdError when the ids do not make a valid session source.
 */
export function telegramInboundFromUpdate(
  update: TelegramUpdate,
  props: TelegramInboundProps = {},
): TelegramInbound | undefined {
  const message = update.message ?? update.channel_post;
  if (!message || message.text === undefined || message.text.trim() === "") return undefined;
  // What the user typed is kept, NUL and unpaired surrogates (unstorable) as U+FFFD: refusing the
  // update would only make Telegram redeliver it until it gives up, and the message would be lost.
  const text = stripOwnMention(toStorableText(message.text), props.botUsername);
  if (text === undefined) return undefined;
  const { chat } = message;
  // A message sent on behalf of a chat (anonymous admin, linked channel) carries that chat in
  // `sender_chat` and a placeholder user in `from`: the chat is the real sender.
  const senderChat = message.sender_chat;
  const userId = senderChat?.id ?? message.from?.id ?? (chat.type === "private" ? chat.id : undefined);
  const userName = displayName(
    senderChat
      ? (senderChat.title ?? senderChat.username)
      : (message.from?.username ?? message.from?.first_name),
  );
  const chatName = displayName(chat.title ?? chat.first_name ?? chat.username);
  const topic =
    chat.type === "supergroup" && message.is_topic_message === true && message.message_thread_id !== undefined
      ? message.message_thread_id
      : undefined;
  let chatType: SessionSource["chatType"];
  if (chat.type === "private") chatType = "dm";
  else if (chat.type === "group" || chat.type === "supergroup")
    chatType = topic === undefined ? "group" : "thread";
  else if (chat.type === "channel") chatType = "channel";
  else return undefined;
  const source = parseSessionSource({
    platform: TELEGRAM_PLATFORM,
    chatId: chat.id,
    chatType,
    ...(chatName ? { chatName } : {}),
    ...(userId === undefined ? {} : { userId }),
    ...(userName ? { userName } : {}),
    ...(topic === undefined ? {} : { threadId: topic }),
  });
  return {
    updateId: update.update_id,
    source,
    text,
    messageId: `${chat.id}:${message.message_id}`,
    timestamp: message.date * 1000,
    replyTo: {
      chatId: chat.id,
      ...(topic === undefined ? {} : { messageThreadId: topic }),
      ...(chatType === "dm" ? {} : { replyToMessageId: message.message_id }),
    },
  };
}

/** Names come from Telegram users: made storable like text, since refusing them would lose the message. */
function displayName(name: string | undefined): string | undefined {
  return name === undefined ? undefined : toStorableText(name);
}

function stripOwnMention(text: string, botUsername: string | undefined): string | undefined {
  const match = ADDRESSED_COMMAND.exec(text);
  if (!match) return text;
  const [whole, command, addressee] = match as unknown as [string, string, string];
  if (botUsername !== undefined && addressee.toLowerCase() !== botUsername.toLowerCase()) return undefined;
  return command + text.slice(whole.length);
}
