import { type ConfigSchema, InvalidArgumentError } from "@engram/core";

/** Configuration of the OpenViking plugin, as a host passes it to `installPlugin`. */
export interface OpenVikingConfig {
  /** OpenViking server URL, e.g. `http://127.0.0.1:1933`. */
  readonly baseUrl: string;
  /** Sent as `X-API-Key` and `Authorization: Bearer`; kept in memory only. */
  readonly apiKey?: string;
  /** Per-request timeout in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Extra attempts for safe requests (default 2). */
  readonly retries?: number;
  /** Memories `prefetch` injects at most (default 6). */
  readonly recallLimit?: number;
  /** Lowest score `prefetch` injects (default 0.15). */
  readonly recallScoreThreshold?: number;
  /** Characters `prefetch` injects at most (default 4000). */
  readonly recallMaxChars?: number;
}

const KEYS = new Set([
  "baseUrl",
  "apiKey",
  "timeoutMs",
  "retries",
  "recallLimit",
  "recallScoreThreshold",
  "recallMaxChars",
]);

function readNumber(
  raw: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidArgumentError(
      key,
      `must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`,
    );
  }
  return value;
}

/** Validates a raw configuration; throws `INVALID_ARGUMENT` naming the first bad key. */
export function parseOpenVikingConfig(input: unknown): OpenVikingConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError("config", "must be an object with at least baseUrl");
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key))
      throw new InvalidArgumentError(key, `is not an option; expected one of ${[...KEYS].join(", ")}`);
  }
  const baseUrl = raw.baseUrl;
  if (typeof baseUrl !== "string" || !/^https?:\/\/[^\s]+$/.test(baseUrl)) {
    throw new InvalidArgumentError("baseUrl", "must be an http(s) URL");
  }
  if (raw.apiKey !== undefined && (typeof raw.apiKey !== "string" || !raw.apiKey)) {
    throw new InvalidArgumentError("apiKey", "must be a non-empty string");
  }
  const numbers = {
    timeoutMs: readNumber(raw, "timeoutMs", 1, 600_000, true),
    retries: readNumber(raw, "retries", 0, 10, true),
    recallLimit: readNumber(raw, "recallLimit", 1, 100, true),
    recallScoreThreshold: readNumber(raw, "recallScoreThreshold", 0, 1, false),
    recallMaxChars: readNumber(raw, "recallMaxChars", 100, 50_000, true),
  };
  const config: { -readonly [K in keyof OpenVikingConfig]: OpenVikingConfig[K] } = { baseUrl };
  if (typeof raw.apiKey === "string") config.apiKey = raw.apiKey;
  for (const [key, value] of Object.entries(numbers)) {
    if (value !== undefined) Object.assign(config, { [key]: value });
  }
  return config;
}

export const openVikingConfigSchema: ConfigSchema<OpenVikingConfig> = { parse: parseOpenVikingConfig };
