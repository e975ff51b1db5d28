import { z } from "zod";

/** Name of the configuration file a host reads from its working directory. */
export const ENGRAM_CONFIG_FILE = "engram.config.json";

/** npm's rules for a package name: optional `@scope/`, lower case, URL-safe. */
const PACKAGE_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;

export const memoryProviderEntrySchema = z
  .strictObject({
    plugin: z
      .string()
      .regex(PACKAGE_NAME, "must be an npm package name, e.g. @engram/provider-hindsight")
      .describe("npm package name of the plugin, e.g. @engram/provider-hindsight."),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("The plugin's own configuration, validated by the plugin (see its README)."),
  })
  .describe("One memory provider plugin and its configuration.");

export const adapterEntrySchema = z
  .strictObject({
    plugin: z
      .string()
      .regex(PACKAGE_NAME, "must be an npm package name, e.g. @engram/adapter-telegram")
      .describe("npm package name of the adapter plugin, e.g. @engram/adapter-telegram."),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("The adapter's own configuration, validated by the plugin (see its README)."),
  })
  .describe("One platform adapter plugin and its configuration.");

export const engramConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe("JSON Schema of this file, for editors."),
    memory: z
      .strictObject({
        providers: z
          .array(memoryProviderEntrySchema)
          .describe(
            "Memory providers every session gets, in order. Several may run at once; an empty list runs " +
              "without long-term memory. Without this key: Holographic on the host's database.",
          ),
      })
      .optional()
      .describe("Long-term memory."),
    adapters: z
      .array(adapterEntrySchema)
      .optional()
      .describe(
        "Messaging platforms (adapter plugins), each with its configuration. Without this key: " +
          "Telegram when ENGRAM_TELEGRAM_BOT_TOKEN is set, Discord when ENGRAM_DISCORD_BOT_TOKEN is set, Slack when ENGRAM_SLACK_BOT_TOKEN is set.",
      ),
  })
  .describe("Engram host configuration (engram.config.json).");

export type EngramConfig = z.output<typeof engramConfigSchema>;
export type MemoryProviderEntryConfig = z.output<typeof memoryProviderEntrySchema>;

/** The memory a host runs when nothing names any: Holographic on the host's database. */
export const DEFAULT_MEMORY_PROVIDERS: readonly MemoryProviderEntryConfig[] = Object.freeze([
  // Extraction at session end is what makes the offline model (which never calls tools) remember.
  Object.freeze({ plugin: "@engram/provider-holographic", config: { autoExtract: true } }),
]);

export type AdapterEntryConfig = z.output<typeof adapterEntrySchema>;

/**
 * Adapters the environment enables without a config file, and the variable of each of their settings.
 * An entry runs when one of its variables is set and `adapters` is absent from the file; its variables
 * also override the file's configuration of that plugin when the file lists it.
 */
export const DEFAULT_ADAPTER_VARIABLES: Readonly<Record<string, Readonly<Record<string, string>>>> =
  Object.freeze({
    "@engram/adapter-telegram": Object.freeze({
      botToken: "ENGRAM_TELEGRAM_BOT_TOKEN",
      webhookSecret: "ENGRAM_TELEGRAM_WEBHOOK_SECRET",
      apiBaseUrl: "ENGRAM_TELEGRAM_API_BASE_URL",
      mode: "ENGRAM_TELEGRAM_MODE",
    }),
    "@engram/adapter-discord": Object.freeze({
      botToken: "ENGRAM_DISCORD_BOT_TOKEN",
      respondTo: "ENGRAM_DISCORD_RESPOND_TO",
      prefix: "ENGRAM_DISCORD_PREFIX",
      apiUrl: "ENGRAM_DISCORD_API_URL",
    }),
    "@engram/adapter-slack": Object.freeze({
      botToken: "ENGRAM_SLACK_BOT_TOKEN",
      signingSecret: "ENGRAM_SLACK_SIGNING_SECRET",
      apiUrl: "ENGRAM_SLACK_API_URL",
    }),
  });

/** The JSON Schema of `engram.config.json`, as published in `engram.config.schema.json`. */
export function engramConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(engramConfigSchema, { target: "draft-2020-12", io: "input" }),
    title: "engram.config.json",
  };
}
