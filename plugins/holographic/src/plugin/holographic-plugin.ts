import {
  definePlugin,
  HOST_DATABASE,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProviderFactory,
  SHUTDOWN_HOOKS,
  type ShutdownHook,
} from "@engram/core";
import type { Kysely } from "kysely";
import { HolographicProvider } from "../provider/holographic-provider.js";
import { type HolographicConfig, holographicConfigSchema } from "./holographic-config.js";
import { HolographicMemory } from "./holographic-memory.js";
import { PLUGIN_ENGRAM_RANGE, PLUGIN_VERSION } from "./package-version.js";

/**
 * A provider factory over `memory`: each session's provider leases the store of its memory scope
 * (see {@link HolographicMemory.scopeFor}) and lets it go at shutdown.
 */
export function holographicProviderFactory(
  memory: HolographicMemory,
  config: HolographicConfig,
  hostDb: Kysely<unknown> | undefined,
): MemoryProviderFactory {
  return (ctx) =>
    new HolographicProvider({
      ...memory.lease(memory.scopeFor(ctx.memoryScope), hostDb),
      ...(config.autoExtract === undefined ? {} : { autoExtract: config.autoExtract }),
      ...(config.minTrust === undefined ? {} : { minTrust: config.minTrust }),
      ...(config.prefetchLimit === undefined ? {} : { prefetchLimit: config.prefetchLimit }),
    });
}

/**
 * The plugin hosts load: registers a `HolographicProvider` factory on the host's database
 * (`HOST_DATABASE`) unless the configuration names one of its own, and a shutdown hook that closes
 * the stores (and that database).
 */
export const holographicPlugin = definePlugin<HolographicConfig>({
  name: "@engram/provider-holographic",
  version: PLUGIN_VERSION,
  engram: PLUGIN_ENGRAM_RANGE,
  configSchema: holographicConfigSchema,
  register(container, config) {
    const memory = new HolographicMemory(config);
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, {
      // Resolved when a host builds a session's providers, not here: register does no I/O and
      // resolves nothing. The host database is optional (a host may have none).
      useFactory: (scope) =>
        holographicProviderFactory(
          memory,
          config,
          scope.isRegistered(HOST_DATABASE, true) ? scope.resolve<Kysely<unknown>>(HOST_DATABASE) : undefined,
        ),
    });
    container.register<ShutdownHook>(SHUTDOWN_HOOKS, { useValue: () => memory.close() });
  },
});
