import { definePlugin, InvalidArgumentError } from "@engram/core";
import {
  PLATFORM_ADAPTER_FACTORIES,
  type PlatformAdapterContext,
  type PlatformAdapterFactory,
} from "@engram/sessions";
import type { Kysely } from "kysely";
import { z } from "zod";
import { PostgresTelegramOffsetStore, type TelegramOffsetStore } from "./db/telegram-offset-store.js";
import { PLUGIN_ENGRAM_RANGE, PLUGIN_VERSION } from "./package-version.js";
import { TelegramAdapter } from "./telegram-adapter.js";
import { TELEGRAM_DEFAULT_API_BASE_URL } from "./telegram-bot-api.js";

/**
 * The adapter's configuration (`adapters[].config` of `engram.config.json`; without a file, the
 * `ENGRAM_TELEGRAM_*` variables: `botToken` <- `ENGRAM_TELEGRAM_BOT_TOKEN`, `webhookSecret` <-
 * `ENGRAM_TELEGRAM_WEBHOOK_SECRET`, `apiBaseUrl` <- `ENGRAM_TELEGRAM_API_BASE_URL`, `mode` <-
 * `ENGRAM_TELEGRAM_MODE`).
 */
export const telegramAdapterConfigSchema = z
  .strictObject({
    /** `<bot id>:<secret>`, from @BotFather. */
    botToken: z
      .string({ error: "is required" })
      .regex(/^\d+:[A-Za-z0-9_-]+$/, "must look like <bot id>:<secret> (digits, a colon, A-Za-z0-9_-)"),
    /** `webhook` (Telegram posts to `/telegram/webhook`) or `polling` (`getUpdates`; no public URL needed). */
    mode: z.enum(["webhook", "polling"]).default("webhook"),
    /** The `secret_token` given to `setWebhook`; required in webhook mode. */
    webhookSecret: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, "must be 1-256 characters of A-Za-z0-9_- (Telegram's rule)")
      .optional(),
    apiBaseUrl: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .default(TELEGRAM_DEFAULT_API_BASE_URL),
    /** Long-poll wait of one `getUpdates` in seconds (polling mode). */
    pollTimeoutSeconds: z.coerce.number().int().min(0).max(50).default(25),
    /** Pause after a failed `getUpdates` (ms, polling mode). */
    pollRetryDelayMs: z.coerce.number().int().min(0).default(1000),
  })
  .superRefine((config, ctx) => {
    if (config.mode === "webhook" && !config.webhookSecret) {
      ctx.addIssue({ code: "custom", path: ["webhookSecret"], message: "is required in webhook mode" });
    }
  });

export type TelegramAdapterConfig = z.output<typeof telegramAdapterConfigSchema>;

/** Builds the adapter of a validated configuration; polling keeps its offsets in the host's database. */
export function telegramAdapterFactory(config: TelegramAdapterConfig): PlatformAdapterFactory {
  return (context: PlatformAdapterContext) => {
    const common = {
      botToken: config.botToken,
      apiBaseUrl: config.apiBaseUrl,
      ...(context.logger ? { logger: context.logger } : {}),
    };
    if (config.mode === "webhook") {
      return new TelegramAdapter({ ...common, webhookSecret: config.webhookSecret ?? "" });
    }
    return new TelegramAdapter({
      ...common,
      polling: {
        // A host without a database (a configuration check) builds the adapter but never starts it.
        offsets:
          context.db === undefined
            ? new NoDatabaseOffsetStore()
            : new PostgresTelegramOffsetStore(context.db as Kysely<unknown>),
        timeoutSeconds: config.pollTimeoutSeconds,
        retryDelayMs: config.pollRetryDelayMs,
      },
    });
  };
}

/** Polling without the host's database: refused when the adapter starts. */
class NoDatabaseOffsetStore implements TelegramOffsetStore {
  async prepare(): Promise<void> {
    throw new InvalidArgumentError(
      "mode",
      "polling keeps its offset in the host's database; this host has none",
    );
  }
  async read(): Promise<number | undefined> {
    return undefined;
  }
  async write(): Promise<void> {}
}

/** The Telegram adapter as an Engram plugin: `{ "plugin": "@engram/adapter-telegram", "config": {...} }`. */
const telegramPlugin = definePlugin<TelegramAdapterConfig>({
  name: "@engram/adapter-telegram",
  version: PLUGIN_VERSION,
  engram: PLUGIN_ENGRAM_RANGE,
  configSchema: telegramAdapterConfigSchema,
  register(container, config) {
    container.register<PlatformAdapterFactory>(PLATFORM_ADAPTER_FACTORIES, {
      useValue: telegramAdapterFactory(config),
    });
  },
});

export default telegramPlugin;
