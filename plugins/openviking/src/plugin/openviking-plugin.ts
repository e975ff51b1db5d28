import {
  definePlugin,
  LOGGER,
  type Logger,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProviderFactory,
} from "@engram/core";
import { OpenVikingMemoryProvider } from "../provider/openviking-memory-provider.js";
import { type OpenVikingConfig, openVikingConfigSchema } from "./openviking-config.js";
import { PLUGIN_ENGRAM_RANGE, PLUGIN_VERSION } from "./package-version.js";

/** Builds a fresh provider per session from the plugin configuration (no I/O until a hook runs). */
export function openVikingProviderFactory(config: OpenVikingConfig, logger?: Logger): MemoryProviderFactory {
  return () =>
    new OpenVikingMemoryProvider({
      baseUrl: config.baseUrl,
      ...(logger === undefined ? {} : { logger }),
      ...(config.apiKey === undefined ? {} : { apiKey: config.apiKey }),
      ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
      ...(config.retries === undefined ? {} : { retries: config.retries }),
      recall: {
        ...(config.recallLimit === undefined ? {} : { limit: config.recallLimit }),
        ...(config.recallScoreThreshold === undefined ? {} : { scoreThreshold: config.recallScoreThreshold }),
        ...(config.recallMaxChars === undefined ? {} : { maxChars: config.recallMaxChars }),
      },
    });
}

/**
 * The plugin hosts load: registers an `OpenVikingMemoryProvider` factory, logging to the host's
 * `LOGGER` when it registered one.
 */
export const openVikingPlugin = definePlugin<OpenVikingConfig>({
  name: "@engram/provider-openviking",
  version: PLUGIN_VERSION,
  engram: PLUGIN_ENGRAM_RANGE,
  configSchema: openVikingConfigSchema,
  register(container, config) {
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, {
      useFactory: (scope) =>
        openVikingProviderFactory(
          config,
          scope.isRegistered(LOGGER, true) ? scope.resolve<Logger>(LOGGER) : undefined,
        ),
    });
  },
});
