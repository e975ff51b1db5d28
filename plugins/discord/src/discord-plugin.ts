import { definePlugin } from "@engram/core";
import { PLATFORM_ADAPTER_FACTORIES, type PlatformAdapterFactory } from "@engram/sessions";
import { z } from "zod";
import { DiscordAdapter } from "./discord-adapter.js";
import { DISCORD_RESPOND_TO } from "./discord-message.js";
import { PLUGIN_ENGRAM_RANGE, PLUGIN_VERSION } from "./package-version.js";

/** `adapters[].config` of `engram.config.json` for `@engram/adapter-discord`. */
export const discordAdapterConfigSchema = z.strictObject({
  /** Developer Portal -> your application -> Bot -> Token. */
  botToken: z
    .string({ error: "is required" })
    .regex(/^[A-Za-z0-9._-]{20,200}$/, "must be a Discord bot token"),
  /** When the bot answers in guild channels and threads; DMs are always answered. */
  respondTo: z.enum(DISCORD_RESPOND_TO, { error: 'must be "mention", "prefix" or "all"' }).default("mention"),
  prefix: z
    .string()
    .min(1, "must not be empty")
    .max(32, "must be at most 32 characters")
    .regex(/^\S+$/, "must not contain spaces")
    .default("!"),
  /** REST base URL; default `https://discord.com/api`. */
  apiUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
});

export type DiscordAdapterConfig = z.output<typeof discordAdapterConfigSchema>;

const discordPlugin = definePlugin<DiscordAdapterConfig>({
  name: "@engram/adapter-discord",
  version: PLUGIN_VERSION,
  engram: PLUGIN_ENGRAM_RANGE,
  configSchema: discordAdapterConfigSchema,
  register(container, config) {
    container.register<PlatformAdapterFactory>(PLATFORM_ADAPTER_FACTORIES, {
      useValue: (context) =>
        new DiscordAdapter({
          botToken: config.botToken,
          respondTo: config.respondTo,
          prefix: config.prefix,
          ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}),
          ...(context.logger ? { logger: context.logger } : {}),
        }),
    });
  },
});

export default discordPlugin;
