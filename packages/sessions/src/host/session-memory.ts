import {
  type Logger,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProvider,
  type MemoryProviderFactory,
  type ProviderInitContext,
} from "@engram/core";
import type { DependencyContainer } from "tsyringe";

/**
 * One session's memory: the providers built for it, the context they were built with (hand it to
 * their `initialize`), and the release of the session's child container. The owner of the session's
 * agent disposes it once the providers shut down (disposing does not cascade to the host).
 */
export interface SessionMemory {
  readonly providers: MemoryProvider[];
  readonly context: ProviderInitContext;
  dispose(): Promise<void>;
}

/**
 * Builds one session's providers in a child container of the host's: every registered factory is
 * resolved there (a plugin's `useFactory` sees the session's container, and `ContainerScoped`
 * registrations get one instance per session) and called with `context`. A factory that throws costs
 * its own provider only: the session runs with the others (failure isolation), and it is logged.
 */
export function openSessionMemory(
  host: DependencyContainer,
  context: ProviderInitContext,
  logger?: Logger,
): SessionMemory {
  const scope = host.createChildContainer();
  const factories = scope.isRegistered(MEMORY_PROVIDER_FACTORIES, true)
    ? scope.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES)
    : [];
  const providers: MemoryProvider[] = [];
  for (const factory of factories) {
    try {
      providers.push(factory(context));
    } catch (error) {
      logger?.warn({ sessionId: context.sessionId, err: error }, "a memory provider factory failed");
    }
  }
  let disposed: Promise<void> | undefined;
  return {
    providers,
    context,
    dispose: () => {
      // tsyringe's dispose is async in practice but typed as possibly synchronous.
      disposed ??= Promise.resolve(scope.dispose());
      return disposed;
    },
  };
}
