import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  DEFAULT_ADAPTER_VARIABLES,
  DEFAULT_MEMORY_PROVIDERS,
  ENGRAM_CONFIG_FILE,
  type EngramConfig,
  engramConfigSchema,
} from "./engram-config.js";
import { formatConfigPath, type StartupProblem } from "./startup-problem.js";

/** One memory provider to load, wherever it was named. */
export interface MemoryProviderEntry {
  /** Package name of the plugin. */
  readonly plugin: string;
  /** The plugin's raw configuration (validated by the plugin); absent when none was given. */
  readonly config?: unknown;
  /** Where it was named, for problems: `memory.providers[0]`, `ENGRAM_MEMORY_PROVIDERS[1]` or `(default)`. */
  readonly path: string;
  /**
   * Keys of `config` an environment variable can set, with the variable: problems with them name
   * the variable (`ENGRAM_TELEGRAM_BOT_TOKEN (adapters[0].config.botToken)`, or `(botToken)` for an
   * adapter only the environment enabled).
   */
  readonly variables?: Readonly<Record<string, string>>;
}

/** What {@link loadEngramConfig} found. */
export interface LoadedEngramConfig {
  /** The file read, or `undefined` when there is none (defaults apply). */
  readonly file: string | undefined;
  /** Folder plugin names resolve from first: the file's, else the working directory. */
  readonly dir: string;
  readonly config: EngramConfig;
  /** Memory providers to load, in order (after `ENGRAM_MEMORY_PROVIDERS` and defaults). */
  readonly providers: readonly MemoryProviderEntry[];
  /** Adapter plugins to load, in order (the file's `adapters`, else those the environment enables). */
  readonly adapters: readonly MemoryProviderEntry[];
  /** Everything wrong with the file or the environment; empty when it can be used. */
  readonly problems: readonly StartupProblem[];
}

export interface LoadEngramConfigProps {
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where a relative `ENGRAM_CONFIG` and `engram.config.json` are looked for. Default `process.cwd()`. */
  readonly cwd?: string;
}

/**
 * Reads the host configuration: the file named by `ENGRAM_CONFIG` (relative to `cwd`), else
 * `engram.config.json` in `cwd`, else in `INIT_CWD` (where `pnpm start` was typed: package scripts run
 * in the package's own folder); without one, the defaults (Holographic on the host's database).
 *
 * `ENGRAM_MEMORY_PROVIDERS` (comma-separated package names) replaces the file's provider list: each
 * named plugin keeps the file's configuration when the file lists it, and gets none otherwise.
 *
 * Never throws for bad input: every problem is in `problems` (with the key or variable it is about),
 * so the caller can report them together with the plugins' problems.
 */
export function loadEngramConfig(props: LoadEngramConfigProps = {}): LoadedEngramConfig {
  const env = props.env ?? process.env;
  const cwd = props.cwd ?? process.cwd();
  const problems: StartupProblem[] = [];
  const file = findConfigFile(env, cwd, problems);
  let config: EngramConfig = {};
  if (file !== undefined) {
    const raw = readJson(file, problems);
    if (raw !== undefined) {
      const parsed = engramConfigSchema.safeParse(raw);
      if (parsed.success) config = parsed.data;
      else {
        for (const issue of parsed.error.issues) {
          problems.push({
            code: "INVALID_CONFIG",
            path: formatConfigPath(issue.path) || file,
            message: issue.message,
          });
        }
      }
    }
  }
  const fromFile: MemoryProviderEntry[] = config.memory
    ? config.memory.providers.map((entry, index) => ({
        plugin: entry.plugin,
        config: entry.config,
        path: `memory.providers[${index}]`,
      }))
    : DEFAULT_MEMORY_PROVIDERS.map((entry) => ({ ...entry, path: "(default memory provider)" }));
  const providers = providersFromEnv(env, config, problems) ?? fromFile;
  const adapters = adaptersOf(env, config);
  return { file, dir: file === undefined ? cwd : dirname(file), config, providers, adapters, problems };
}

function findConfigFile(env: NodeJS.ProcessEnv, cwd: string, problems: StartupProblem[]): string | undefined {
  const named = env.ENGRAM_CONFIG?.trim();
  if (named) {
    const path = resolve(cwd, named);
    if (existsSync(path)) return path;
    problems.push({ code: "INVALID_CONFIG", path: "ENGRAM_CONFIG", message: `${path} does not exist` });
    return undefined;
  }
  for (const dir of [cwd, env.INIT_CWD?.trim()]) {
    if (!dir) continue;
    const path = resolve(dir, ENGRAM_CONFIG_FILE);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function readJson(path: string, problems: StartupProblem[]): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    problems.push({ code: "INVALID_CONFIG", path, message: `cannot be read (${(error as Error).message})` });
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push({
      code: "INVALID_CONFIG",
      path,
      message: `is not valid JSON (${(error as Error).message})`,
    });
    return undefined;
  }
}

function providersFromEnv(
  env: NodeJS.ProcessEnv,
  config: EngramConfig,
  problems: StartupProblem[],
): MemoryProviderEntry[] | undefined {
  const raw = env.ENGRAM_MEMORY_PROVIDERS?.trim();
  if (!raw) return undefined;
  if (raw === "none") return [];
  const entries: MemoryProviderEntry[] = [];
  raw.split(",").forEach((name, index) => {
    const plugin = name.trim();
    if (!plugin) {
      problems.push({
        code: "INVALID_CONFIG",
        path: `ENGRAM_MEMORY_PROVIDERS[${index}]`,
        message: "is empty (give comma-separated package names, or none)",
      });
      return;
    }
    const inFile = config.memory?.providers.findIndex((entry) => entry.plugin === plugin) ?? -1;
    entries.push(
      inFile >= 0
        ? { plugin, config: config.memory?.providers[inFile]?.config, path: `memory.providers[${inFile}]` }
        : { plugin, config: undefined, path: `ENGRAM_MEMORY_PROVIDERS[${index}]` },
    );
  });
  return entries;
}

/**
 * The file's adapters (or, without an `adapters` key, the defaults whose variables are set), each
 * with the values of its environment variables laid over its configuration.
 */
function adaptersOf(env: NodeJS.ProcessEnv, config: EngramConfig): MemoryProviderEntry[] {
  const set = (variable: string) => {
    const value = env[variable];
    return value !== undefined && value.trim() !== "" ? value : undefined;
  };
  const listed: { plugin: string; config?: Record<string, unknown>; path: string }[] = config.adapters
    ? config.adapters.map((entry, index) => ({ ...entry, path: `adapters[${index}]` }))
    : Object.entries(DEFAULT_ADAPTER_VARIABLES)
        .filter(([, variables]) => Object.values(variables).some((variable) => set(variable) !== undefined))
        .map(([plugin]) => ({ plugin, path: `(${plugin}, enabled by the environment)` }));
  return listed.map((entry) => {
    const variables = DEFAULT_ADAPTER_VARIABLES[entry.plugin] ?? {};
    const overlay: Record<string, unknown> = {};
    for (const [key, variable] of Object.entries(variables)) {
      const value = set(variable);
      if (value !== undefined) overlay[key] = value;
    }
    return {
      plugin: entry.plugin,
      config: { ...entry.config, ...overlay },
      path: entry.path,
      ...(Object.keys(variables).length > 0 ? { variables } : {}),
    };
  });
}
