import { type ChatModel, createChatModel } from "@engram/agent";
import {
  CLOCK,
  type Clock,
  LOGGER,
  type Logger,
  type ProviderInitContext,
  SHUTDOWN_HOOKS,
  type ShutdownHook,
  systemClock,
} from "@engram/core";
import holographicPlugin from "@engram/provider-holographic";
import { type DB, registerPostgresPorts } from "@engram/store";
import type { Kysely } from "kysely";
import { type DependencyContainer, container as globalContainer } from "tsyringe";
import type { PlatformAdapter } from "../adapters/platform-adapter.js";
import { DEFAULT_MEMORY_PROVIDERS } from "../config/engram-config.js";
import { EngramConfigError } from "../config/startup-problem.js";
import type { InstalledAdapterPlugin } from "../plugins/install-adapter-plugins.js";
import { type InstalledMemoryPlugin, installMemoryPluginSync } from "../plugins/install-memory-plugins.js";
import { CHAT_MODEL } from "./host-tokens.js";
import { openSessionMemory, type SessionMemory } from "./session-memory.js";

export interface HostContainerProps {
  /**
   * The host's database, migrated with `migrateStore`: its ports and the database itself
   * (`HOST_DATABASE`) are registered. The host uses it and never closes it. Absent: no ports
   * (configuration checks that must not touch a database).
   */
  readonly db?: Kysely<DB>;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Registered as `LOGGER` for plugins when given. */
  readonly logger?: Logger;
  /** Default: `createChatModel()` (the offline model unless `ENGRAM_MODEL*` is set). */
  readonly model?: ChatModel;
}

/**
 * A fresh root container (a child of tsyringe's global one, which stays empty) with what every
 * host registers: `CLOCK`, `LOGGER`, `CHAT_MODEL`, and `@engram/store`'s ports plus `HOST_DATABASE`.
 * No plugins yet.
 */
export function createHostContainer(props: HostContainerProps): DependencyContainer {
  const container = globalContainer.createChildContainer();
  const clock = props.clock ?? systemClock;
  container.register<Clock>(CLOCK, { useValue: clock });
  if (props.logger) container.register<Logger>(LOGGER, { useValue: props.logger });
  container.register<ChatModel>(CHAT_MODEL, { useValue: props.model ?? createChatModel() });
  if (props.db) registerPostgresPorts(container, props.db, { clock });
  return container;
}

/** Model and memory as a start banner or a health detail shows them. */
export interface HostDescription {
  readonly model: string;
  /** The configuration file read (`undefined`: defaults). */
  readonly configFile: string | undefined;
  readonly memory: readonly InstalledMemoryPlugin[];
}

export interface EngramHostProps {
  readonly container: DependencyContainer;
  readonly memory: readonly InstalledMemoryPlugin[];
  /** The adapters the configured adapter plugins built (default none). */
  readonly adapters?: readonly PlatformAdapter[];
  readonly adapterPlugins?: readonly InstalledAdapterPlugin[];
  readonly configFile?: string;
}

/**
 * A composed host: one root container holding the shared services and the installed plugins, one
 * child container per session (see {@link openSession}). Its owner calls {@link close} once every
 * session's providers shut down; the database is the caller's to close after that.
 */
export class EngramHost {
  readonly container: DependencyContainer;
  readonly memory: readonly InstalledMemoryPlugin[];
  /** Platform adapters built from the configured adapter plugins; the host's server mounts them. */
  readonly adapters: readonly PlatformAdapter[];
  readonly adapterPlugins: readonly InstalledAdapterPlugin[];
  readonly configFile: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(props: EngramHostProps) {
    this.container = props.container;
    this.memory = props.memory;
    this.adapters = props.adapters ?? [];
    this.adapterPlugins = props.adapterPlugins ?? [];
    this.configFile = props.configFile;
  }

  get model(): ChatModel {
    return this.container.resolve<ChatModel>(CHAT_MODEL);
  }

  get clock(): Clock {
    return this.container.resolve<Clock>(CLOCK);
  }

  get logger(): Logger | undefined {
    return this.container.isRegistered(LOGGER, true) ? this.container.resolve<Logger>(LOGGER) : undefined;
  }

  /** One session's providers in its own child container; see {@link openSessionMemory}. */
  openSession(context: ProviderInitContext): SessionMemory {
    return openSessionMemory(this.container, context, this.logger);
  }

  describe(): HostDescription {
    return { model: this.model.id, configFile: this.configFile, memory: this.memory };
  }

  /**
   * Runs the plugins' shutdown hooks (reverse order of registration; one failing does not stop the
   * others) and disposes the root container. Call it after every agent shut down. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const hooks = this.container.isRegistered(SHUTDOWN_HOOKS, true)
        ? this.container.resolveAll<ShutdownHook>(SHUTDOWN_HOOKS)
        : [];
      for (const hook of hooks.reverse()) {
        try {
          await hook();
        } catch (error) {
          this.logger?.warn({ err: error }, "a plugin's shutdown hook failed");
        }
      }
      await this.container.dispose();
    })();
    return this.#closing;
  }
}

/**
 * A host with the built-in default memory (Holographic on `db`, per-person scopes), synchronously:
 * for hosts that are not given a composed one (tests, embedders). `composeHost` is the configured way.
 */
export function createDefaultHost(props: HostContainerProps): EngramHost {
  const container = createHostContainer(props);
  const [entry] = DEFAULT_MEMORY_PROVIDERS;
  const { installed, problems } = entry
    ? installMemoryPluginSync(container, { ...entry, path: "(default memory provider)" }, holographicPlugin)
    : { installed: [], problems: [] };
  if (problems.length > 0) throw new EngramConfigError(problems);
  return new EngramHost({ container, memory: installed });
}
