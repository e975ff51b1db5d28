import {
  definePlugin,
  LOGGER,
  type Logger,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProviderFactory,
} from "@engram/core";
import { type HindsightConfig, hindsightConfigSchema } from "../config/hindsight-config.js";
import { HindsightProvider } from "../provider/hindsight-provider.js";
import { PLUGIN_ENGRAM_RANGE, PLUGIN_VERSION } from "./package-version.js";

/**
 * The plugin hosts load: registers a `HindsightProvider` factory (one provider per session), logging
 * to the host's `LOGGER` when it registered one.
 */
export const hindsightPlugin = definePlugin<HindsightConfig>({
  name: "@engram/provider-hindsight",
  version: PLUGIN_VERSION,
  engram: PLUGIN_ENGRAM_RANGE,
  configSchema: hindsightConfigSchema,
  register(container, config) {
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, {
      useFactory: (scope) => {
        const logger = scope.isRegistered(LOGGER, true) ? scope.resolve<Logger>(LOGGER) : undefined;
        return () => new HindsightProvider({ config, ...(logger ? { logger } : {}) });
      },
    });
  },
});
