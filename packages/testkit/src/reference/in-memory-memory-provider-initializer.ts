import type { MemoryProviderTestInitializer } from "../conformance/provider-test-initializer.js";
import { InMemoryMemoryProvider, type InMemoryMemoryProviderProps } from "./in-memory-memory-provider.js";
import { InMemoryMemoryStore } from "./in-memory-memory-store.js";

export interface InMemoryMemoryProviderTestInitializerProps<P extends InMemoryMemoryProvider> {
  /** Names the suite (default `InMemoryMemoryProvider`). */
  readonly name?: string;
  /** Builds the provider on a fresh store; override to test a subclass. */
  readonly create?: (props: InMemoryMemoryProviderProps & { store: InMemoryMemoryStore }) => P;
  readonly timeouts?: MemoryProviderTestInitializer<P>["timeouts"];
}

/**
 * The conformance initializer of the reference provider, and an example of one: one store per memory
 * scope for the providers the recall checks build with a context (as a host's factory shares a scope's
 * memory between sessions), a fresh store for every other provider (nothing leaks between checks), a
 * probe that reads the store the test owns rather than the provider's internals, and sample tool calls.
 */
export function inMemoryMemoryProviderTestInitializer<
  P extends InMemoryMemoryProvider = InMemoryMemoryProvider,
>(props: InMemoryMemoryProviderTestInitializerProps<P> = {}): MemoryProviderTestInitializer<P> {
  const create = props.create ?? ((p) => new InMemoryMemoryProvider(p) as P);
  const scopes = new Map<string, InMemoryMemoryStore>();
  const storeOf = (scope: string) => {
    const store = scopes.get(scope) ?? new InMemoryMemoryStore();
    scopes.set(scope, store);
    return store;
  };
  return {
    name: props.name ?? "InMemoryMemoryProvider",
    createProvider: (ctx) =>
      create({ store: ctx?.memoryScope ? storeOf(ctx.memoryScope) : new InMemoryMemoryStore() }),
    capabilities: {
      tools: true,
      prefetch: true,
      syncTurn: true,
      sessionEnd: true,
      sessionSwitch: true,
      compression: true,
      network: false,
    },
    probe: (provider) => ({
      writes: provider.store.entries().map((entry) => ({ sessionId: entry.sessionId, text: entry.text })),
    }),
    sampleToolCalls: [
      { name: "memory_add", args: { content: "The deploy window is Friday at noon.", tags: ["deploy"] } },
      { name: "memory_search", args: { query: "deploy window", limit: 3 } },
    ],
    invalidToolCalls: [
      { name: "memory_search", args: { query: "deploy", limit: 0 } },
      { name: "memory_add", args: { content: "x", unexpected: true } },
    ],
    ...(props.timeouts === undefined ? {} : { timeouts: props.timeouts }),
  };
}
