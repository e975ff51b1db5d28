import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type EngramPlugin, isEngramPlugin } from "@engram/core";
import { resolve as resolveModule } from "import-meta-resolve";
import type { MemoryProviderEntry } from "../config/load-engram-config.js";
import type { StartupProblem } from "../config/startup-problem.js";

/** A plugin package imported and its plugin found. */
export interface LoadedPlugin {
  readonly entry: MemoryProviderEntry;
  readonly plugin: EngramPlugin;
  /** The module the plugin came from (`file:` URL). */
  readonly url: string;
}

export type LoadPluginResult =
  | { readonly ok: true; readonly loaded: LoadedPlugin }
  | { readonly ok: false; readonly problem: StartupProblem };

/**
 * Finds `entry.plugin` the way Node's `import` would from each folder of `searchFrom` in turn (the
 * config file's folder, then the app's own), imports it, and picks its plugin: the default export,
 * or else the one named export that is an Engram plugin (`isEngramPlugin`). Never throws: a package
 * that cannot be found, fails to import or exports no single plugin is a problem naming where it was
 * looked for.
 */
export async function loadPlugin(
  entry: MemoryProviderEntry,
  searchFrom: readonly string[],
): Promise<LoadPluginResult> {
  const problem = (code: StartupProblem["code"], message: string): LoadPluginResult => ({
    ok: false,
    problem: { code, path: `${entry.path}.plugin`, message, plugin: entry.plugin },
  });
  let url: string | undefined;
  for (const dir of searchFrom) {
    try {
      // A file URL inside the folder as the parent: resolution walks up its node_modules folders.
      url = resolveModule(entry.plugin, pathToFileURL(join(dir, "noop.js")).href);
      break;
    } catch {
      // Not installed there; try the next folder.
    }
  }
  if (url === undefined) {
    return problem(
      "PLUGIN_NOT_FOUND",
      `cannot find package "${entry.plugin}" (looked in ${searchFrom.join(", ")}); install it next to the config file or the app`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    return problem("PLUGIN_INVALID", `cannot import "${entry.plugin}" (${url}): ${messageOf(error)}`);
  }
  const plugin = pickPlugin(module);
  if (typeof plugin === "string") return problem("PLUGIN_INVALID", `"${entry.plugin}" ${plugin}`);
  return { ok: true, loaded: { entry, plugin, url } };
}

/** The module's plugin, or why there is none. */
function pickPlugin(module: Record<string, unknown>): EngramPlugin | string {
  if (isEngramPlugin(module.default)) return module.default;
  const named = Object.entries(module).filter(([name, value]) => name !== "default" && isEngramPlugin(value));
  const [only] = named;
  if (named.length === 1 && only) return only[1] as EngramPlugin;
  if (named.length === 0) {
    return "exports no Engram plugin (export the value of definePlugin as default, or as its only plugin export)";
  }
  return `exports ${named.length} Engram plugins (${named.map(([name]) => name).join(", ")}) and none as default: export the one to load as default`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
