import { parseSessionSource, type SessionSource, toStorableText } from "@engram/core";
import { z } from "zod";

/** The `SessionSource.platform` of Discord messages. */
export const DISCORD_PLATFORM = "discord";

/** When the bot answers in a guild channel or thread (DMs are always answered). */
export const DISCORD_RESPOND_TO = ["mention", "prefix", "all"] as const;
export type DiscordRespondTo = (typeof DISCORD_RESPOND_TO)[number];

const snowflake = z.string().regex(/^\d{1,20}$/, "must be a Discord snowflake");

// Loose objects: Discord adds fields over time; only what the adapter reads is checked.
/** The fields of a gateway MESSAGE_CREATE the adapter reads. */
export const discordMessageSchema = z.looseObject({
  id: snowflake,
  channel_id: snowflake,
  guild_id: snowflake.optional(),
  type: z.number().int().optional(),
  content: z.string(),
  timestamp: z.string().optional(),
  webhook_id: z.string().optional(),
  author: z.looseObject({
    id: snowflake,
    username: z.string().optional(),
    global_name: z.string().nullish(),
    bot: z.boolean().optional(),
    system: z.boolean().optional(),
  }),
  mentions: z.array(z.looseObject({ id: snowflake })).optional(),
});

export type DiscordMessage = z.output<typeof discordMessageSchema>;

/** Discord's thread channel types (announcement, public and private threads). */
export const DISCORD_THREAD_TYPES: ReadonlySet<number> = new Set([10, 11, 12]);

/** What the adapter knows of a guild message's channel (from `GET /channels/{id}`). */
export interface DiscordChannelInfo {
  readonly type: number;
  readonly parentId?: string;
  readonly name?: string;
}

export interface DiscordTrigger {
  readonly botId: string;
  readonly respondTo: DiscordRespondTo;
  readonly prefix: string;
}

/** One text message, ready for the runtime. */
export interface DiscordInbound {
  readonly source: SessionSource;
  readonly text: string;
  /** The message's snowflake: unique across Discord and the same on a gateway replay. */
  readonly messageId: string;
  readonly timestamp: number;
  /** The channel to answer in (the thread's own channel for a thread). */
  readonly channelId: string;
}

/**
 * The text the bot is addressed with, or `undefined` when the message is not for it. DMs are always
 * for it. In guild channels and threads: `mention` wants `<@bot>` in the text, `prefix` a leading
 * prefix, `all` anything. The mention or prefix is removed from the text the runtime gets.
 */
export function addressedText(message: DiscordMessage, trigger: DiscordTrigger): string | undefined {
  const mention = new RegExp(`[ \\t]*<@!?${trigger.botId}>[ \\t]*`, "g");
  const inDm = message.guild_id === undefined;
  let text = message.content;
  if (!inDm && trigger.respondTo === "mention") {
    const mentioned =
      text.match(mention) !== null || (message.mentions ?? []).some((user) => user.id === trigger.botId);
    if (!mentioned) return undefined;
  }
  text = text.replace(mention, " ").trim();
  if (trigger.prefix !== "" && text.startsWith(trigger.prefix))
    text = text.slice(trigger.prefix.length).trim();
  else if (!inDm && trigger.respondTo === "prefix") return undefined;
  return text === "" ? undefined : text;
}

/**
 * Maps a MESSAGE_CREATE to what the runtime handles, or `undefined`: bots and webhooks (the bot's own
 * replies included), system messages, messages not addressed to the bot. No `guild_id` -> dm (chat:
 * the DM channel), a guild text channel -> group (one session per person, seed 004), a thread ->
 * thread with its parent channel as the chat. `channel` is the guild message's channel, looked up
 * by the caller.
 */
export function discordInboundFromMessage(
  message: DiscordMessage,
  trigger: DiscordTrigger,
  channel: DiscordChannelInfo | undefined,
): DiscordInbound | undefined {
  if (message.author.bot || message.author.system || message.webhook_id !== undefined) return undefined;
  // 0 default, 19 reply; everything else (joins, pins, ...) is a system message.
  if (message.type !== undefined && message.type !== 0 && message.type !== 19) return undefined;
  const text = addressedText(message, trigger);
  if (text === undefined) return undefined;
  const userName = message.author.global_name ?? message.author.username;
  const common = {
    platform: DISCORD_PLATFORM,
    userId: message.author.id,
    ...(userName ? { userName } : {}),
    ...(message.guild_id ? { scopeId: message.guild_id } : {}),
  };
  let source: SessionSource;
  if (message.guild_id === undefined) {
    source = parseSessionSource({ ...common, chatType: "dm", chatId: message.channel_id });
  } else if (channel && DISCORD_THREAD_TYPES.has(channel.type) && channel.parentId) {
    source = parseSessionSource({
      ...common,
      chatType: "thread",
      chatId: channel.parentId,
      threadId: message.channel_id,
      ...(channel.name ? { chatName: channel.name } : {}),
    });
  } else {
    source = parseSessionSource({
      ...common,
      chatType: "group",
      chatId: message.channel_id,
      ...(channel?.name ? { chatName: channel.name } : {}),
    });
  }
  const timestamp = message.timestamp ? Date.parse(message.timestamp) : Number.NaN;
  return {
    source,
    text: toStorableText(text),
    messageId: message.id,
    timestamp: Number.isFinite(timestamp) ? timestamp : Date.now(),
    channelId: message.channel_id,
  };
}
