import semver from "semver";
import { EngramError } from "../errors/engram-error.js";
import { ENGRAM_CORE_VERSION } from "./core-version.js";
import type { EngramPlugin } from "./engram-plugin.js";

/** A plugin's `engram` range does not include the running core version. */
export class PluginIncompatibleError extends EngramError {
  constructor(plugin: string, range: string, coreVersion: string) {
    super(
      "PLUGIN_INCOMPATIBLE",
      `Plugin "${plugin}" requires @engram/core ${range}, but this core is ${coreVersion}`,
      { details: { plugin, range, coreVersion } },
    );
    this.name = "PluginIncompatibleError";
  }
}

/**
 * Throws `PLUGIN_INCOMPATIBLE` unless `coreVersion` (default: this core) satisfies the plugin's
 * `engram` range. Prereleases of core count as satisfying a range that covers their release line.
 */
export function assertPluginCompatible(
  plugin: Pick<EngramPlugin, "name" | "engram">,
  coreVersion: string = ENGRAM_CORE_VERSION,
): void {
  const range = semver.validRange(plugin.engram);
  if (range === null || !semver.satisfies(coreVersion, range, { includePrerelease: true })) {
    throw new PluginIncompatibleError(plugin.name, plugin.engram, coreVersion);
  }
}
