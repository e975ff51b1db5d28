import { type ConfigSchema, InvalidArgumentError } from "@engram/core";
import type { Budget } from "../client/hindsight-wire.js";
import { assertBankIdTemplate } from "./bank-id-template.js";

/** `cloud` talks to Hindsight Cloud (API key required); `external` to a server you run. */
export type HindsightMode = "cloud" | "external";

export const HINDSIGHT_CLOUD_URL = "https://api.hindsight.vectorize.io";
export const HINDSIGHT_LOCAL_URL = "http://localhost:8888";

/** Time bounds, in ms. */
export interface HindsightTimeouts {
  /** One HTTP request (default 10 000). */
  readonly requestMs: number;
  /** How long `queuePrefetch` waits for pending retains before recalling anyway (default 5 000). */
  readonly retainWaitMs: number;
  /** `shutdown` drains the writer for at most this long (default 5 000). */
  readonly shutdownMs: number;
  /** Pause between operation-status polls (default 100). */
  readonly pollIntervalMs: number;
}

/** Validated configuration of the Hindsight provider. */
export interface HindsightConfig {
  readonly mode: HindsightMode;
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Bank id, possibly with `{profile}`, `{platform}`, `{user}`, `{scope}`, `{session}` placeholders. */
  readonly bankId: string;
  readonly budget: Budget;
  /** Tags added to every retain besides `session:<id>` / `parent:<id>`. */
  readonly retainTags: readonly string[];
  /** Retain every N turns (default 1). */
  readonly retainEveryTurns: number;
  /** Fact types prefetch recalls (default `["observation"]`). */
  readonly recallTypes: readonly string[];
  /** `max_tokens` of a prefetch recall (default 4096). */
  readonly recallMaxTokens: number;
  readonly timeouts: HindsightTimeouts;
}

const KEYS = new Set([
  "mode",
  "baseUrl",
  "apiKey",
  "bankId",
  "bankIdTemplate",
  "budget",
  "retainTags",
  "retainEveryTurns",
  "recallTypes",
  "recallMaxTokens",
  "timeouts",
]);
const TIMEOUT_KEYS = new Set(["requestMs", "retainWaitMs", "shutdownMs", "pollIntervalMs"]);

function text(raw: Record<string, unknown>, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !value.trim())
    throw new InvalidArgumentError(key, "must be a non-empty string");
  return value.trim();
}

function integer(raw: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(key, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function strings(raw: Record<string, unknown>, key: string): string[] | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || !item.trim())) {
    throw new InvalidArgumentError(key, "must be an array of non-empty strings");
  }
  return value.map((item: string) => item.trim());
}

/**
 * Validates a raw configuration object. Unknown keys are rejected so typos do not pass silently;
 * `cloud` mode requires an API key; the base URL must be http(s); `bankId` and `bankIdTemplate` are
 * the same setting (give one).
 */
export function parseHindsightConfig(input: unknown): HindsightConfig {
  const raw = (input ?? {}) as Record<string, unknown>;
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new InvalidArgumentError("config", "must be an object");
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key)) throw new InvalidArgumentError(key, "is not a Hindsight configuration key");
  }
  const mode = text(raw, "mode") ?? "cloud";
  if (mode !== "cloud" && mode !== "external")
    throw new InvalidArgumentError("mode", 'must be "cloud" or "external"');
  const baseUrl = text(raw, "baseUrl") ?? (mode === "cloud" ? HINDSIGHT_CLOUD_URL : HINDSIGHT_LOCAL_URL);
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new InvalidArgumentError("baseUrl", `${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InvalidArgumentError("baseUrl", "must use http or https");
  }
  const apiKey = text(raw, "apiKey");
  if (mode === "cloud" && !apiKey) throw new InvalidArgumentError("apiKey", "is required in cloud mode");
  const bankId = text(raw, "bankId");
  const bankIdTemplate = text(raw, "bankIdTemplate");
  if (bankId && bankIdTemplate)
    throw new InvalidArgumentError("bankIdTemplate", "give bankId or bankIdTemplate, not both");
  const bank = bankIdTemplate ?? bankId ?? "engram";
  assertBankIdTemplate(bank);
  const budget = text(raw, "budget") ?? "mid";
  if (budget !== "low" && budget !== "mid" && budget !== "high") {
    throw new InvalidArgumentError("budget", 'must be "low", "mid" or "high"');
  }
  const rawTimeouts = raw.timeouts ?? {};
  if (typeof rawTimeouts !== "object" || rawTimeouts === null || Array.isArray(rawTimeouts)) {
    throw new InvalidArgumentError("timeouts", "must be an object");
  }
  const timeoutsIn = rawTimeouts as Record<string, unknown>;
  for (const key of Object.keys(timeoutsIn)) {
    if (!TIMEOUT_KEYS.has(key)) throw new InvalidArgumentError(`timeouts.${key}`, "is not a timeout key");
  }
  return {
    mode,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    apiKey,
    bankId: bank,
    budget,
    retainTags: strings(raw, "retainTags") ?? [],
    retainEveryTurns: integer(raw, "retainEveryTurns", 1, 1000) ?? 1,
    recallTypes: strings(raw, "recallTypes") ?? ["observation"],
    recallMaxTokens: integer(raw, "recallMaxTokens", 1, 1_000_000) ?? 4096,
    timeouts: {
      requestMs: integer(timeoutsIn, "requestMs", 1, 600_000) ?? 10_000,
      retainWaitMs: integer(timeoutsIn, "retainWaitMs", 0, 600_000) ?? 5_000,
      shutdownMs: integer(timeoutsIn, "shutdownMs", 0, 600_000) ?? 5_000,
      pollIntervalMs: integer(timeoutsIn, "pollIntervalMs", 1, 60_000) ?? 100,
    },
  };
}

export const hindsightConfigSchema: ConfigSchema<HindsightConfig> = { parse: parseHindsightConfig };
