import type { DependencyContainer } from "tsyringe";
import { EngramError } from "../errors/engram-error.js";
import { ENGRAM_CORE_VERSION } from "./core-version.js";
import type { EngramPlugin } from "./engram-plugin.js";
import { assertPluginCompatible } from "./plugin-compatibility.js";

export interface InstallPluginProps {
  /** Raw configuration of the plugin (from the host's config file); validated by `configSchema`. */
  config?: unknown;
  /** Core version to check against. Default: this core. */
  coreVersion?: string;
}

/**
 * What a host's composition root does with a loaded plugin: check compatibility
 * (`PLUGIN_INCOMPATIBLE`), validate its config (`INVALID_CONFIG`, with the schema's error as `cause`),
 * then call its `register`. Nothing is registered when a check fails.
 */
export async function installPlugin<TConfig>(
  container: DependencyContainer,
  plugin: EngramPlugin<TConfig>,
  props: InstallPluginProps = {},
): Promise<void> {
  assertPluginCompatible(plugin, props.coreVersion ?? ENGRAM_CORE_VERSION);
  let config: TConfig;
  if (plugin.configSchema) {
    try {
      config = plugin.configSchema.parse(props.config);
    } catch (cause) {
      throw new EngramError("INVALID_CONFIG", `Configuration of plugin "${plugin.name}" is invalid`, {
        cause,
        details: { plugin: plugin.name },
      });
    }
  } else {
    // Without a schema the plugin declared no config type beyond what it accepts as-is.
    config = props.config as TConfig;
  }
  await plugin.register(container, config);
}
