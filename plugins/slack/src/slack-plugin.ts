import { definePlugin } from "@engram/core";
import { PLATFORM_ADAPTER_FACTORIES, type PlatformAdapterFactory } from "@engram/sessions";
import { z } from "zod";
import { PLUGIN_ENGRAM_RANGE, PLUGIN_VERSION } from "./package-version.js";
import { SlackAdapter } from "./slack-adapter.js";

/** `adapters[].config` of `engram.config.json` for `@engram/adapter-slack`. */
export const slackAdapterConfigSchema = z.strictObject({
  /** Bot User OAuth Token (`xoxb-...`). */
  botToken: z
    .string({ error: "is required" })
    .regex(/^xox[a-z]-[A-Za-z0-9-]+$/, "must be a Slack token (xoxb-...)"),
  /** Basic Information -> Signing Secret. */
  signingSecret: z.string({ error: "is required" }).min(8, "must be the app's signing secret"),
  apiUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
});

export type SlackAdapterConfig = z.output<typeof slackAdapterConfigSchema>;

const slackPlugin = definePlugin<SlackAdapterConfig>({
  name: "@engram/adapter-slack",
  version: PLUGIN_VERSION,
  engram: PLUGIN_ENGRAM_RANGE,
  configSchema: slackAdapterConfigSchema,
  register(container, config) {
    container.register<PlatformAdapterFactory>(PLATFORM_ADAPTER_FACTORIES, {
      useValue: (context) =>
        new SlackAdapter({
          botToken: config.botToken,
          signingSecret: config.signingSecret,
          ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}),
          ...(context.logger ? { logger: context.logger } : {}),
        }),
    });
  },
});

export default slackPlugin;
