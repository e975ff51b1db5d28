import { type ConfigSchema, InvalidArgumentError } from "@engram/core";
import { assertMemoryScope } from "../store/memory-scope.js";

/** Configuration of the holographic plugin, as a host passes it to `installPlugin`. */
export interface HolographicConfig {
  /**
   * PostgreSQL connection string of a database of the plugin's own. Without `databaseUrl`, `dataDir`
   * and `memory` the plugin uses the host's database (`HOST_DATABASE`), or, in a host without one,
   * PGlite in `@engram/store`'s default folder.
   */
  readonly databaseUrl?: string;
  /** PGlite data folder of a database of the plugin's own. */
  readonly dataDir?: string;
  /** A database of the plugin's own in memory, nothing persisted (tests, demos). */
  readonly memory?: boolean;
  /** Schema of the plugin's tables in a database of its own (default `public`). */
  readonly schema?: string;
  /**
   * One memory scope every session shares, whoever speaks (single-user installations). Default: the
   * scope the host chose for the session (`ProviderInitContext.memoryScope`: per person or per shared
   * room), or `default` when the host chose none.
   */
  readonly scope?: string;
  /** Scopes whose store stays open with no session using it, least recently used first out (default 64). */
  readonly maxOpenScopes?: number;
  /** HRR dimension (default 1024). */
  readonly dim?: number;
  /** Store preferences and decisions stated by the user when a session ends (default false). */
  readonly autoExtract?: boolean;
  /** Lowest trust `prefetch` recalls (default 0.3). */
  readonly minTrust?: number;
  /** Facts `prefetch` recalls at most (default 5). */
  readonly prefetchLimit?: number;
  /** Search temporal decay half-life in days; 0 disables (default). */
  readonly temporalDecayHalfLifeDays?: number;
  /** Trust of new facts (default 0.5). */
  readonly defaultTrust?: number;
}

const KEYS = new Set([
  "databaseUrl",
  "dataDir",
  "memory",
  "schema",
  "scope",
  "maxOpenScopes",
  "dim",
  "autoExtract",
  "minTrust",
  "prefetchLimit",
  "temporalDecayHalfLifeDays",
  "defaultTrust",
]);

function readString(raw: Record<string, unknown>, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !value.trim())
    throw new InvalidArgumentError(key, "must be a non-empty string");
  return value;
}

function readBoolean(raw: Record<string, unknown>, key: string): boolean | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new InvalidArgumentError(key, "must be a boolean");
  return value;
}

function readNumber(
  raw: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(key, `must be a number from ${min} to ${max}`);
  }
  if (integer && !Number.isInteger(value)) throw new InvalidArgumentError(key, "must be an integer");
  return value;
}

/** Validates a raw configuration object; unknown keys are rejected so typos do not pass silently. */
export function parseHolographicConfig(input: unknown): HolographicConfig {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input))
    throw new InvalidArgumentError("config", "must be an object");
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key)) throw new InvalidArgumentError(key, "is not a holographic configuration key");
  }
  const config = {
    databaseUrl: readString(raw, "databaseUrl"),
    dataDir: readString(raw, "dataDir"),
    memory: readBoolean(raw, "memory"),
    schema: readString(raw, "schema"),
    scope: raw.scope === undefined ? undefined : assertMemoryScope(raw.scope),
    maxOpenScopes: readNumber(raw, "maxOpenScopes", 0, 100_000, true),
    dim: readNumber(raw, "dim", 16, 65_536, true),
    autoExtract: readBoolean(raw, "autoExtract"),
    minTrust: readNumber(raw, "minTrust", 0, 1),
    prefetchLimit: readNumber(raw, "prefetchLimit", 1, 100, true),
    temporalDecayHalfLifeDays: readNumber(raw, "temporalDecayHalfLifeDays", 0, 36_500),
    defaultTrust: readNumber(raw, "defaultTrust", 0, 1),
  };
  return Object.fromEntries(
    Object.entries(config).filter(([, value]) => value !== undefined),
  ) as HolographicConfig;
}

export const holographicConfigSchema: ConfigSchema<HolographicConfig> = { parse: parseHolographicConfig };
