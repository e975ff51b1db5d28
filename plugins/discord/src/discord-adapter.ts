import { Client, GatewayDispatchEvents, GatewayIntentBits } from "@discordjs/core";
import { REST } from "@discordjs/rest";
import { type SessionInfo, WebSocketManager } from "@discordjs/ws";
import { EngramError, InvalidArgumentError, type Logger, type SessionSource } from "@engram/core";
import {
  failureReply,
  type InboundHandler,
  isRefusal,
  type PlatformAdapter,
  replyText,
  splitMessageText,
} from "@engram/sessions";
import type { FastifyInstance } from "fastify";
import {
  DISCORD_PLATFORM,
  type DiscordChannelInfo,
  type DiscordInbound,
  type DiscordRespondTo,
  discordInboundFromMessage,
  discordMessageSchema,
} from "./discord-message.js";

/** Discord's cap on one message's content: longer replies are split. */
export const DISCORD_MAX_MESSAGE_LENGTH = 2000;

/**
 * Guilds (channel and thread metadata), guild and direct messages, and MESSAGE_CONTENT: without that
 * privileged intent (enabled in the Developer Portal) guild messages arrive with empty content.
 */
export const DISCORD_INTENTS =
  GatewayIntentBits.Guilds |
  GatewayIntentBits.GuildMessages |
  GatewayIntentBits.DirectMessages |
  GatewayIntentBits.MessageContent;

/** How long to wait before each new attempt to save a message the runtime could not save. */
export const DISCORD_SAVE_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 15_000];

export interface DiscordAdapterProps {
  readonly botToken: string;
  /** When the bot answers in guild channels and threads (default `mention`); DMs are always answered. */
  readonly respondTo?: DiscordRespondTo;
  /** The prefix of `respondTo: "prefix"` (default `!`); also stripped from other messages that start with it. */
  readonly prefix?: string;
  /** REST base URL (default `https://discord.com/api`); a stand-in in tests. The gateway URL comes from `GET /gateway/bot`. */
  readonly apiUrl?: string;
  /** Delays of the retries of a message that could not be saved (Discord never redelivers an event). */
  readonly saveRetryDelaysMs?: readonly number[];
  readonly logger?: Logger;
}

/**
 * The Discord platform through the gateway (WebSocket) with `@discordjs/core`: MESSAGE_CREATE from
 * DMs, guild channels and threads; replies with `POST /channels/{id}/messages`, split at 2,000
 * characters, the first part as a reply to the message, with mentions disabled (a reply never pings
 * `@everyone` or a role). Rate limits: the REST client's queue waits out buckets and 429s.
 *
 * Gateway events have no acknowledgement and are not redelivered, except when a resumed session
 * replays what it missed: a message id seen again is dropped (the runtime also drops repeats of a
 * message id across restarts). A message the runtime could not save is tried again after
 * {@link DISCORD_SAVE_RETRY_DELAYS_MS}; when every attempt failed, the failure is answered in the
 * chat so the person knows to send it again.
 */
export class DiscordAdapter implements PlatformAdapter {
  readonly platform = DISCORD_PLATFORM;
  readonly rest: REST;
  readonly #token: string;
  readonly #respondTo: DiscordRespondTo;
  readonly #prefix: string;
  readonly #retryDelays: readonly number[];
  readonly #inFlight = new Set<Promise<void>>();
  /** Message ids being handled or handled (bounded: the oldest are forgotten first). */
  readonly #seen = new Set<string>();
  readonly #channels = new Map<string, Promise<DiscordChannelInfo | undefined>>();
  readonly #sessions = new Map<number, SessionInfo>();
  #gateway: WebSocketManager | undefined;
  #botId = "";
  #inbound: InboundHandler | undefined;
  #log: Logger | undefined;
  #messagesReceived = 0;

  constructor(props: DiscordAdapterProps) {
    if (props.botToken.trim() === "") throw new InvalidArgumentError("botToken", "must not be empty");
    this.#token = props.botToken;
    this.#respondTo = props.respondTo ?? "mention";
    this.#prefix = props.prefix ?? "!";
    this.#retryDelays = props.saveRetryDelaysMs ?? DISCORD_SAVE_RETRY_DELAYS_MS;
    this.rest = new REST({ version: "10", ...(props.apiUrl ? { api: props.apiUrl } : {}) }).setToken(
      props.botToken,
    );
    this.#log = props.logger;
  }

  /** No routes: the bot connects out to Discord's gateway. Keeps the runtime for `start`. */
  register(server: FastifyInstance, inbound: InboundHandler): void {
    this.#log = server.log.child({ platform: DISCORD_PLATFORM });
    this.#inbound = inbound;
  }

  /** Reads the bot's user (a wrong token fails start-up), then connects and resolves at READY. */
  async start(): Promise<void> {
    const gateway = new WebSocketManager({
      token: this.#token,
      intents: DISCORD_INTENTS,
      rest: this.rest,
      // Per adapter, not the library's process-wide default store: two bots in one process must not resume each other.
      retrieveSessionInfo: (shardId) => this.#sessions.get(shardId) ?? null,
      updateSessionInfo: (shardId, info) => {
        if (info) this.#sessions.set(shardId, info);
        else this.#sessions.delete(shardId);
      },
    });
    const client = new Client({ rest: this.rest, gateway });
    const me = await client.api.users.getCurrent();
    this.#botId = me.id;
    client.on(GatewayDispatchEvents.MessageCreate, ({ data }) => {
      this.#messagesReceived += 1;
      this.#onMessage(data);
    });
    gateway.on("error", (error) => this.#log?.warn({ err: error }, "discord gateway error"));
    this.#gateway = gateway;
    await gateway.connect();
    this.#log?.info({ bot: me.username, id: me.id }, "discord bot ready");
  }

  /** MESSAGE_CREATE events received from the gateway, replays included. */
  get messagesReceived(): number {
    return this.#messagesReceived;
  }

  async stop(): Promise<void> {
    const gateway = this.#gateway;
    this.#gateway = undefined;
    await gateway?.destroy({ reason: "engram stopping" });
    await this.whenIdle();
  }

  async whenIdle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Sends to the channel of `source` (the thread's channel for a thread source), split at 2,000 characters. */
  async send(source: SessionSource, text: string): Promise<void> {
    if (source.platform !== DISCORD_PLATFORM)
      throw new InvalidArgumentError("source.platform", `must be ${DISCORD_PLATFORM}`);
    const channelId = source.chatType === "thread" && source.threadId ? source.threadId : source.chatId;
    await this.#deliver(channelId, undefined, text);
  }

  #onMessage(data: unknown): void {
    const parsed = discordMessageSchema.safeParse(data);
    if (!parsed.success) {
      this.#log?.debug({ issues: parsed.error.issues.length }, "discord message ignored: unexpected shape");
      return;
    }
    const message = parsed.data;
    if (message.author.id === this.#botId || message.author.bot) return;
    if (this.#seen.has(message.id)) return;
    this.#remember(message.id);
    this.#track(
      (async () => {
        const channel = message.guild_id ? await this.#channelInfo(message.channel_id) : undefined;
        const inbound = discordInboundFromMessage(
          message,
          { botId: this.#botId, respondTo: this.#respondTo, prefix: this.#prefix },
          channel,
        );
        if (inbound) await this.#runTurn(inbound);
      })().catch((error: unknown) =>
        this.#log?.error({ err: error, messageId: message.id }, "discord message not handled"),
      ),
    );
  }

  /** A guild channel's type and parent (threads), cached; `undefined` when Discord does not say. */
  #channelInfo(channelId: string): Promise<DiscordChannelInfo | undefined> {
    let info = this.#channels.get(channelId);
    if (!info) {
      info = this.rest
        .get(`/channels/${channelId}`)
        .then((raw) => {
          const channel = raw as { type?: unknown; parent_id?: unknown; name?: unknown };
          if (typeof channel.type !== "number") return undefined;
          return {
            type: channel.type,
            ...(typeof channel.parent_id === "string" ? { parentId: channel.parent_id } : {}),
            ...(typeof channel.name === "string" ? { name: channel.name } : {}),
          };
        })
        .catch((error: unknown) => {
          this.#channels.delete(channelId);
          this.#log?.warn({ err: error, channelId }, "discord channel lookup failed");
          return undefined;
        });
      if (this.#channels.size >= 10_000) this.#channels.clear();
      this.#channels.set(channelId, info);
    }
    return info;
  }

  async #runTurn(message: DiscordInbound): Promise<void> {
    const inbound = this.#inbound;
    if (!inbound) throw new EngramError("INTERNAL", "discord adapter started without a runtime");
    let reply: string | null = null;
    for (let attempt = 0; ; attempt += 1) {
      let stored = false;
      try {
        const result = await inbound({
          source: message.source,
          text: message.text,
          messageId: message.messageId,
          timestamp: message.timestamp,
          onStored: () => {
            stored = true;
          },
        });
        if (result.duplicate) return;
        reply = replyText(result);
        break;
      } catch (error) {
        const refused = isRefusal(error);
        const delay = this.#retryDelays[attempt];
        if (!stored && !refused && delay !== undefined) {
          this.#log?.warn(
            { err: error, messageId: message.messageId, attempt },
            "discord message not saved; retrying",
          );
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        reply = failureReply(error);
        break;
      }
    }
    if (reply === null) return;
    try {
      await this.#deliver(message.channelId, message.messageId, reply);
    } catch (error) {
      this.#log?.error({ err: error, messageId: message.messageId }, "discord reply not delivered");
    }
  }

  async #deliver(channelId: string, replyTo: string | undefined, text: string): Promise<void> {
    if (text.trim() === "") return;
    let first = true;
    for (const part of splitMessageText(text, DISCORD_MAX_MESSAGE_LENGTH)) {
      if (part.trim() === "") continue;
      await this.rest.post(`/channels/${channelId}/messages`, {
        body: {
          content: part,
          // Model output must never ping @everyone, roles or people.
          allowed_mentions: { parse: [] },
          ...(first && replyTo
            ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } }
            : {}),
        },
      });
      first = false;
    }
  }

  #remember(messageId: string): void {
    this.#seen.add(messageId);
    if (this.#seen.size > 5000) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }
}
