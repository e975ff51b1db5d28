import {
  assertPluginCompatible,
  DEFAULT_RESERVED_TOOL_NAMES,
  EngramError,
  type EngramPlugin,
  InvalidArgumentError,
  installPlugin,
  isEngramError,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProviderFactory,
  type ProviderInitContext,
} from "@engram/core";
import type { DependencyContainer } from "tsyringe";
import type { MemoryProviderEntry } from "../config/load-engram-config.js";
import { formatConfigPath, type StartupProblem } from "../config/startup-problem.js";
import { messageOf } from "./load-plugin.js";

/** A plugin to install: the plugin and where (and with what configuration) it was named. */
export interface PluginToInstall {
  readonly entry: MemoryProviderEntry;
  readonly plugin: EngramPlugin;
}

/** What one provider of an installed plugin looks like, seen through a probe instance. */
export interface ProbedProvider {
  readonly name: string;
  /** `isAvailable()` of the probe (configuration present; never a network check). */
  readonly available: boolean;
  readonly tools: readonly string[];
}

/** A plugin installed in a host's container, for banners and health details. */
export interface InstalledMemoryPlugin {
  /** Where it was named (`memory.providers[0]`). */
  readonly path: string;
  readonly plugin: string;
  readonly version: string;
  readonly providers: readonly ProbedProvider[];
}

export interface InstallMemoryPluginsResult {
  readonly installed: readonly InstalledMemoryPlugin[];
  /** Empty when every plugin installed and no two providers collide. */
  readonly problems: readonly StartupProblem[];
}

/** The context probe providers are built with: they are never initialised, so they do no I/O. */
export const PROBE_CONTEXT: Readonly<ProviderInitContext> = Object.freeze({
  sessionId: "engram-probe",
  platform: "probe",
  agentContext: "primary",
  extra: {},
  memoryScope: "probe",
});

/**
 * Installs each plugin into `container` with core's `installPlugin` (its `engram` range against the
 * running core, then its `configSchema`, then `register`), one after the other, going on after a
 * failure so every problem is found. Each plugin's factories are then probed (see `ProviderProbe`):
 * provider-name and tool-name collisions across providers are problems too.
 */
export async function installMemoryPlugins(
  container: DependencyContainer,
  plugins: readonly PluginToInstall[],
): Promise<InstallMemoryPluginsResult> {
  const probe = new ProviderProbe();
  for (const { entry, plugin } of plugins) {
    const before = factoriesOf(container).length;
    try {
      await installPlugin(container, plugin, { config: entry.config });
    } catch (error) {
      probe.problems.push(...installProblems(entry, plugin, error));
      continue;
    }
    probe.add(entry, plugin, factoriesOf(container).slice(before));
  }
  return { installed: probe.installed, problems: probe.problems };
}

/**
 * {@link installMemoryPlugins} for one plugin whose `register` is synchronous: hosts composed in a
 * synchronous constructor install the built-in default with it. The same checks, the same problems.
 */
export function installMemoryPluginSync(
  container: DependencyContainer,
  entry: MemoryProviderEntry,
  plugin: EngramPlugin,
): InstallMemoryPluginsResult {
  const probe = new ProviderProbe();
  const before = factoriesOf(container).length;
  try {
    assertPluginCompatible(plugin);
    let config: unknown = entry.config;
    try {
      config = plugin.configSchema ? plugin.configSchema.parse(entry.config) : entry.config;
    } catch (cause) {
      throw new EngramError("INVALID_CONFIG", `Configuration of plugin "${plugin.name}" is invalid`, {
        cause,
      });
    }
    const registered = plugin.register(container, config);
    if (registered instanceof Promise) {
      throw new InvalidArgumentError(
        "plugin",
        `${plugin.name} registers asynchronously; install it with installMemoryPlugins`,
      );
    }
  } catch (error) {
    return { installed: [], problems: installProblems(entry, plugin, error) };
  }
  probe.add(entry, plugin, factoriesOf(container).slice(before));
  return { installed: probe.installed, problems: probe.problems };
}

/**
 * Builds one probe provider from each new factory and records, as problems, what a `MemoryManager`
 * would silently drop at every session: two providers with one name, two providers offering one
 * tool name, a reserved tool name.
 */
class ProviderProbe {
  readonly installed: InstalledMemoryPlugin[] = [];
  readonly problems: StartupProblem[] = [];
  readonly #toolOwners = new Map<string, string>();
  readonly #nameOwners = new Map<string, string>();

  add(entry: MemoryProviderEntry, plugin: EngramPlugin, factories: readonly MemoryProviderFactory[]): void {
    const owner = `${entry.path} (${plugin.name})`;
    const providers: ProbedProvider[] = [];
    const problem = (code: StartupProblem["code"], message: string) =>
      this.problems.push({ code, path: entry.path, plugin: plugin.name, message });
    for (const factory of factories) {
      let probed: ProbedProvider;
      try {
        const provider = factory({ ...PROBE_CONTEXT, extra: {} });
        probed = { name: provider.name, available: provider.isAvailable(), tools: toolNames(provider) };
      } catch (error) {
        problem("PLUGIN_INVALID", `building a provider failed: ${messageOf(error)}`);
        continue;
      }
      providers.push(probed);
      const sameName = this.#nameOwners.get(probed.name);
      if (sameName) {
        problem(
          "PROVIDER_CONFLICT",
          `provider name "${probed.name}" is also used by ${sameName}; a session keeps only the first`,
        );
      } else this.#nameOwners.set(probed.name, owner);
      for (const tool of probed.tools) {
        const first = this.#toolOwners.get(tool);
        if (DEFAULT_RESERVED_TOOL_NAMES.has(tool)) {
          problem("TOOL_NAME_RESERVED", `tool "${tool}" is reserved for the agent's own tools`);
        } else if (first) {
          problem(
            "PROVIDER_CONFLICT",
            `tool "${tool}" is also offered by ${first}; every tool name must have one owner`,
          );
        } else this.#toolOwners.set(tool, owner);
      }
    }
    this.installed.push({ path: entry.path, plugin: plugin.name, version: plugin.version, providers });
  }
}

/** The factories registered so far, in registration order, resolved the way a session resolves them. */
function factoriesOf(container: DependencyContainer): MemoryProviderFactory[] {
  if (!container.isRegistered(MEMORY_PROVIDER_FACTORIES, true)) return [];
  return container.createChildContainer().resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
}

function toolNames(provider: { getToolSchemas(): readonly { name: string }[] }): string[] {
  return provider.getToolSchemas().map((schema) => schema.name);
}

/**
 * A failed `installPlugin` as problems: the range, or each bad key of the configuration (named by its
 * environment variable when one set it).
 */
export function installProblems(
  entry: MemoryProviderEntry,
  plugin: EngramPlugin,
  error: unknown,
): StartupProblem[] {
  const at = (path: string, code: StartupProblem["code"], message: string): StartupProblem => ({
    code,
    path,
    plugin: plugin.name,
    message: `${message} (${plugin.name})`,
  });
  if (isEngramError(error) && error.code === "PLUGIN_INCOMPATIBLE") {
    const coreVersion = String(error.details?.coreVersion ?? "");
    return [
      at(entry.path, "PLUGIN_INCOMPATIBLE", `needs @engram/core ${plugin.engram}, running ${coreVersion}`),
    ];
  }
  if (isEngramError(error) && error.code === "INVALID_CONFIG") {
    return configProblems(error.cause).map((issue) => {
      const path = formatConfigPath(issue.path, `${entry.path}.config`);
      const variable = entry.variables?.[String(issue.path[0])];
      if (!variable) return at(path, "INVALID_CONFIG", issue.message);
      // An entry only the environment made has no key in a file: the variable and the setting name it.
      const key = entry.path.startsWith("(") ? formatConfigPath(issue.path) : path;
      return at(`${variable} (${key})`, "INVALID_CONFIG", issue.message);
    });
  }
  return [at(entry.path, "PLUGIN_INVALID", `register failed: ${messageOf(error)}`)];
}

interface ConfigIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * What a plugin's `configSchema.parse` threw, as issues with paths: every issue of a zod error; the
 * argument and rule of an `InvalidArgumentError` (a dotted argument is a nested key); otherwise the
 * message, at the config's root.
 */
function configProblems(cause: unknown): ConfigIssue[] {
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(issues) && issues.length > 0) {
    return issues.map((issue: { path?: unknown; message?: unknown }) => ({
      path: Array.isArray(issue.path) ? (issue.path as PropertyKey[]) : [],
      message: typeof issue.message === "string" ? issue.message : "is invalid",
    }));
  }
  // Structural, not `instanceof`: a plugin may have been loaded with a second copy of core.
  const engramError = cause as { code?: unknown; details?: Record<string, unknown> } | undefined;
  if (engramError?.code === "INVALID_ARGUMENT") {
    const argument = engramError.details?.argument;
    const rule = engramError.details?.rule;
    if (typeof argument === "string" && typeof rule === "string") {
      return [{ path: argument === "config" ? [] : argument.split("."), message: rule }];
    }
  }
  return [{ path: [], message: messageOf(cause) }];
}
