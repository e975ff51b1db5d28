import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoadEngramConfigProps, loadEngramConfig } from "../config/load-engram-config.js";
import { EngramConfigError, type StartupProblem } from "../config/startup-problem.js";
import { installAdapterPlugins } from "../plugins/install-adapter-plugins.js";
import { installMemoryPlugins, type PluginToInstall } from "../plugins/install-memory-plugins.js";
import { loadPlugin } from "../plugins/load-plugin.js";
import { createHostContainer, EngramHost, type HostContainerProps } from "./engram-host.js";

/** This package's folder: plugin names resolve from it last (it depends on the default plugin). */
const OWN_DIR = fileURLToPath(new URL("../..", import.meta.url));

export interface ComposeHostProps extends HostContainerProps, LoadEngramConfigProps {
  /**
   * Folders plugin names resolve from after the config file's folder: the app's own (where its
   * `node_modules` holds the first-party plugins), in order.
   */
  readonly appDirs?: readonly string[];
  /**
   * Load the adapter plugins the configuration names (see `loadEngramConfig`): only hosts that mount
   * platform adapters (the gateway) ask for them. Default false.
   */
  readonly loadAdapters?: boolean;
}

/**
 * The composition every app does at start: reads `engram.config.json` (see `loadEngramConfig`),
 * builds the host container (`createHostContainer`), then loads every memory plugin it names by
 * package name and installs it (`installMemoryPlugins`), then the adapter plugins
 * (`installAdapterPlugins`), whose adapters the host's server mounts.
 *
 * @throws EngramConfigError (code `INVALID_CONFIG`) listing every problem found (the file, the
 *   environment, each plugin: not found, not a plugin, incompatible, bad configuration, colliding
 *   tools), with the key each is about. Nothing was started then; the caller exits non-zero.
 */
export async function composeHost(props: ComposeHostProps = {}): Promise<EngramHost> {
  const loaded = loadEngramConfig(props);
  const problems: StartupProblem[] = [...loaded.problems];
  const searchFrom = [...new Set([loaded.dir, ...(props.appDirs ?? []), OWN_DIR].map((dir) => resolve(dir)))];
  const plugins: PluginToInstall[] = [];
  for (const result of await Promise.all(loaded.providers.map((entry) => loadPlugin(entry, searchFrom)))) {
    if (result.ok) plugins.push({ entry: result.loaded.entry, plugin: result.loaded.plugin });
    else problems.push(result.problem);
  }
  const adapterPlugins: PluginToInstall[] = [];
  for (const result of await Promise.all(
    (props.loadAdapters ? loaded.adapters : []).map((entry) => loadPlugin(entry, searchFrom)),
  )) {
    if (result.ok) adapterPlugins.push({ entry: result.loaded.entry, plugin: result.loaded.plugin });
    else problems.push(result.problem);
  }
  const container = createHostContainer(props);
  const installed = await installMemoryPlugins(container, plugins);
  problems.push(...installed.problems);
  const adapters = await installAdapterPlugins(container, adapterPlugins);
  problems.push(...adapters.problems);
  const host = new EngramHost({
    container,
    memory: installed.installed,
    adapters: adapters.adapters,
    adapterPlugins: adapters.installed,
    ...(loaded.file === undefined ? {} : { configFile: loaded.file }),
  });
  if (problems.length > 0) {
    // Plugins that did install may hold something (they opened nothing yet, but let them say so).
    await host.close();
    throw new EngramConfigError(problems);
  }
  return host;
}
