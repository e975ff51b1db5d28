import { definePlugin, MEMORY_PROVIDER_FACTORIES, type MemoryProviderFactory } from "@engram/core";
import { type HindsightConfig, hindsightConfigSchema } from "../config/hindsight-config.js";
import { HindsightProvider } from "../provider/hindsight-provider.js";

/** The plugin hosts load: registers a `HindsightProvider` factory (one provider per session). */
export const hindsightPlugin = definePlugin<HindsightConfig>({
  name: "@engram/provider-hindsight",
  version: "0.1.0",
  engram: "^0.1.0",
  configSchema: hindsightConfigSchema,
  register(container, config) {
    const factory: MemoryProviderFactory = () => new HindsightProvider({ config });
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, { useValue: factory });
  },
});
