import type { MemoryProvider, ProviderInitContext } from "../memory/memory-provider.js";

/**
 * Builds one provider for one agent session. Plugins register factories (not instances) because every
 * session gets fresh providers. A factory must not do I/O: connect in `initialize`, which is bounded.
 */
export type MemoryProviderFactory = (ctx: ProviderInitContext) => MemoryProvider;
