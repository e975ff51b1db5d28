import { definePlugin, MEMORY_PROVIDER_FACTORIES, type MemoryProviderFactory } from "@engram/core";
import { createDatabase } from "@engram/store";
import { migrateHolographic } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { HolographicProvider } from "../provider/holographic-provider.js";
import { HolographicFactStore } from "../store/holographic-fact-store.js";
import { type HolographicConfig, holographicConfigSchema } from "./holographic-config.js";

/**
 * One store per plugin installation, opened (and migrated) on first use and shared by every session's
 * provider: the in-process index is the expensive part and must exist once. A failed open is retried
 * by the next session instead of being cached.
 */
export function sharedStoreOpener(config: HolographicConfig): () => Promise<HolographicFactStore> {
  let opening: Promise<HolographicFactStore> | undefined;
  return () => {
    opening ??= (async () => {
      const database = await createDatabase<HolographicDB>({
        ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
        ...(config.dataDir ? { dataDir: config.dataDir } : {}),
        ...(config.memory ? { memory: true } : {}),
        ...(config.schema ? { schema: config.schema } : {}),
      });
      try {
        await migrateHolographic(database.db);
        return await HolographicFactStore.open({
          db: database.db,
          ...(config.scope === undefined ? {} : { scope: config.scope }),
          ...(config.dim === undefined ? {} : { dim: config.dim }),
          ...(config.defaultTrust === undefined ? {} : { defaultTrust: config.defaultTrust }),
          ...(config.temporalDecayHalfLifeDays === undefined
            ? {}
            : { temporalDecayHalfLifeDays: config.temporalDecayHalfLifeDays }),
        });
      } catch (error) {
        await database.close();
        throw error;
      }
    })().catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
}

/** The plugin hosts load: registers a `HolographicProvider` factory. */
export const holographicPlugin = definePlugin<HolographicConfig>({
  name: "@engram/provider-holographic",
  version: "0.1.0",
  engram: "^0.1.0",
  configSchema: holographicConfigSchema,
  register(container, config) {
    const openStore = sharedStoreOpener(config);
    const factory: MemoryProviderFactory = () =>
      new HolographicProvider({
        openStore,
        ...(config.autoExtract === undefined ? {} : { autoExtract: config.autoExtract }),
        ...(config.minTrust === undefined ? {} : { minTrust: config.minTrust }),
        ...(config.prefetchLimit === undefined ? {} : { prefetchLimit: config.prefetchLimit }),
      });
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, { useValue: factory });
  },
});
