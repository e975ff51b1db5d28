import { definePlugin, MEMORY_PROVIDER_FACTORIES, type MemoryProviderFactory } from "@engram/core";
import { type NotesConfig, notesConfigSchema } from "./notes-config.js";
import { NotesProvider } from "./notes-provider.js";

/**
 * The plugin a host loads by package name. `register` only records a factory: the host calls it for
 * every session, and the provider touches the disk in its hooks, never here.
 */
export const notesPlugin = definePlugin<NotesConfig>({
  name: "engram-provider-notes",
  version: "0.1.0",
  engram: "^0.1.0",
  configSchema: notesConfigSchema,
  register(container, config) {
    const factory: MemoryProviderFactory = () => new NotesProvider({ config });
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, { useValue: factory });
  },
});
