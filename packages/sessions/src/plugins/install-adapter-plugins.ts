import { CLOCK, type Clock, HOST_DATABASE, installPlugin, LOGGER, type Logger } from "@engram/core";
import type { DependencyContainer } from "tsyringe";
import {
  PLATFORM_ADAPTER_FACTORIES,
  type PlatformAdapter,
  type PlatformAdapterContext,
  type PlatformAdapterFactory,
} from "../adapters/platform-adapter.js";
import type { StartupProblem } from "../config/startup-problem.js";
import { installProblems, type PluginToInstall } from "./install-memory-plugins.js";
import { messageOf } from "./load-plugin.js";

/** An adapter plugin installed in a host, with the adapters its factories built. */
export interface InstalledAdapterPlugin {
  /** Where it was named (`adapters[0]`). */
  readonly path: string;
  readonly plugin: string;
  readonly version: string;
  readonly platforms: readonly string[];
}

export interface InstallAdapterPluginsResult {
  readonly installed: readonly InstalledAdapterPlugin[];
  /** The adapters, in configuration order; the host mounts and starts them. */
  readonly adapters: readonly PlatformAdapter[];
  /** Empty when every plugin installed, every factory built and no two adapters share a platform. */
  readonly problems: readonly StartupProblem[];
}

/**
 * Installs each adapter plugin into `container` (core's `installPlugin`: range, `configSchema`,
 * `register`) and builds the adapters its factories make, going on after a failure so every problem
 * is found: a factory that throws, and a second adapter for a platform already taken
 * (`ADAPTER_CONFLICT`; two webhooks on one path, two pollers on one bot), are problems too.
 */
export async function installAdapterPlugins(
  container: DependencyContainer,
  plugins: readonly PluginToInstall[],
): Promise<InstallAdapterPluginsResult> {
  const installed: InstalledAdapterPlugin[] = [];
  const adapters: PlatformAdapter[] = [];
  const problems: StartupProblem[] = [];
  const owners = new Map<string, string>();
  const context = adapterContextOf(container);
  for (const { entry, plugin } of plugins) {
    const before = factoriesOf(container).length;
    try {
      await installPlugin(container, plugin, { config: entry.config });
    } catch (error) {
      problems.push(...installProblems(entry, plugin, error));
      continue;
    }
    const platforms: string[] = [];
    for (const factory of factoriesOf(container).slice(before)) {
      const problem = (code: StartupProblem["code"], message: string) =>
        problems.push({ code, path: entry.path, plugin: plugin.name, message });
      let adapter: PlatformAdapter;
      try {
        adapter = factory(context);
      } catch (error) {
        problem("PLUGIN_INVALID", `building the adapter failed: ${messageOf(error)}`);
        continue;
      }
      const owner = owners.get(adapter.platform);
      if (owner) {
        problem("ADAPTER_CONFLICT", `platform "${adapter.platform}" is already served by ${owner}`);
        continue;
      }
      owners.set(adapter.platform, `${entry.path} (${plugin.name})`);
      platforms.push(adapter.platform);
      adapters.push(adapter);
    }
    installed.push({ path: entry.path, plugin: plugin.name, version: plugin.version, platforms });
  }
  return { installed, adapters, problems };
}

function factoriesOf(container: DependencyContainer): PlatformAdapterFactory[] {
  if (!container.isRegistered(PLATFORM_ADAPTER_FACTORIES, true)) return [];
  return container.resolveAll<PlatformAdapterFactory>(PLATFORM_ADAPTER_FACTORIES);
}

/** The host's services an adapter may use; resolved here, so plugins never touch the container. */
function adapterContextOf(container: DependencyContainer): PlatformAdapterContext {
  return {
    clock: container.resolve<Clock>(CLOCK),
    ...(container.isRegistered(LOGGER, true) ? { logger: container.resolve<Logger>(LOGGER) } : {}),
    ...(container.isRegistered(HOST_DATABASE, true) ? { db: container.resolve<unknown>(HOST_DATABASE) } : {}),
  };
}
