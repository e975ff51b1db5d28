import { readFileSync } from "node:fs";
import { EngramError, parseResetPolicy } from "@engram/core";
import { z } from "zod";

/** Thrown at start-up when configuration fails validation; `details.issues` lists every problem. */
export class InvalidGatewayConfigError extends EngramError {
  constructor(issues: readonly string[]) {
    super("INVALID_CONFIG", `Invalid gateway configuration:\n  - ${issues.join("\n  - ")}`, {
      details: { issues: [...issues] },
    });
    this.name = "InvalidGatewayConfigError";
  }
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}

const resetPolicySchema = z.unknown().transform((value, ctx) => {
  try {
    return parseResetPolicy(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

const gatewayConfigFields = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65_535).default(8787),
  /** Bearer token of `/v1/*`; required unless `devMode` on a loopback host. */
  token: z.string().min(16, "must be at least 16 characters").optional(),
  devMode: z.boolean().default(false),
  /** PostgreSQL URL; without it an embedded PGlite database lives in `dataDir`. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  dataDir: z.string().min(1).default("./.engram/data"),
  maxTextBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  resetPolicy: resetPolicySchema.optional(),
  /** Each participant of a non-thread group/channel gets their own session (seed 004 default). */
  groupSessionsPerUser: z.boolean().default(true),
  /** Each participant of a thread gets their own session; off: threads are shared. */
  threadSessionsPerUser: z.boolean().default(false),
  /** Live agents kept in memory; the least recently used idle one is committed and dropped beyond it. */
  maxAgents: z.number().int().positive().default(128),
  /** Agents idle this long are committed and dropped by the sweep (the session itself lives on). */
  agentIdleTtlMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60 * 1000),
  /** Hash user and chat ids in what the model is told about the session (PII-safe platforms only). */
  redactPii: z.boolean().default(false),
  /** How often expired sessions get their memory committed; 0 disables the sweep. */
  expirySweepIntervalMs: z.number().int().min(0).default(60_000),
  /**
   * This process's name for restart safety: the clean-shutdown marker is kept per instance, so
   * several processes on one database each need their own.
   */
  instance: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -")
    .default("default"),
  /** After an unclean stop, keys active this recently (ms) count as interrupted (seed: 120 s). */
  restartWindowMs: z.number().int().min(0).default(120_000),
  /** Auto-continue window of a resume-pending session, from its resume mark (ms; 0 = no limit). */
  resumeFreshnessMs: z
    .number()
    .int()
    .min(0)
    .default(60 * 60 * 1000),
  /** Unclean starts in a row that find a key interrupted before it is suspended instead. */
  maxInterruptedRestarts: z.number().int().positive().default(3),
  /** How long a graceful stop waits for running turns and memory commits (ms). */
  drainDeadlineMs: z.number().int().min(0).default(30_000),
  /**
   * How long a retried message (a platform id the key already received) waits for its original turn
   * to answer before it is answered `pending` (ms; default: one model request's timeout).
   */
  duplicateWaitMs: z.number().int().min(0).default(120_000),
  /**
   * Routing entries last active more than this many days ago are dropped (at most once an hour, by
   * the expiry sweep; transcripts stay); 0 keeps them forever. The seed leaves the value to config.
   */
  routeMaxAgeDays: z.number().min(0).default(90),
  /**
   * How long this process counts as live in the shared commit ledger after its last heartbeat: the
   * memory work of a process that died unannounced is adopted by another after this long.
   */
  instanceTtlMs: z.number().int().min(300).default(30_000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Telegram bot token (`<bot id>:<secret>`); the Telegram adapter runs when it is set. */
  telegramBotToken: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]+$/, "must look like <bot id>:<secret> (digits, a colon, A-Za-z0-9_-)")
    .optional(),
  /** `secret_token` of `setWebhook`, checked on every webhook request; required with a bot token. */
  telegramWebhookSecret: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, "must be 1-256 characters of A-Za-z0-9_- (Telegram's rule)")
    .optional(),
  telegramApiBaseUrl: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .default("https://api.telegram.org"),
});

export const gatewayConfigSchema = gatewayConfigFields.superRefine((config, ctx) => {
  if (config.telegramBotToken && !config.telegramWebhookSecret) {
    ctx.addIssue({
      code: "custom",
      path: ["telegramWebhookSecret"],
      message: "is required with a Telegram bot token",
    });
  }
  if (config.telegramWebhookSecret && !config.telegramBotToken) {
    ctx.addIssue({
      code: "custom",
      path: ["telegramBotToken"],
      message: "is required with a Telegram webhook secret",
    });
  }
  if (!config.token && !(config.devMode && isLoopbackHost(config.host))) {
    ctx.addIssue({
      code: "custom",
      path: ["token"],
      message: "is required unless devMode is on and the server binds a loopback host",
    });
  }
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/**
 * Validates configuration; every problem is reported at once.
 *
 * @throws InvalidGatewayConfigError (code `INVALID_CONFIG`).
 */
export function parseGatewayConfig(input: unknown): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidGatewayConfigError(
    result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
  );
}

/**
 * Reads configuration from an optional JSON file (`ENGRAM_GATEWAY_CONFIG_FILE`, keys as in
 * {@link GatewayConfig}) and the environment, which wins: `ENGRAM_GATEWAY_HOST`, `ENGRAM_GATEWAY_PORT`,
 * `ENGRAM_GATEWAY_TOKEN`, `ENGRAM_GATEWAY_DEV` (`1`/`true`), `DATABASE_URL`, `ENGRAM_DATA_DIR`,
 * `ENGRAM_GATEWAY_MAX_TEXT_BYTES`, `ENGRAM_GATEWAY_RESET_POLICY` (JSON), `ENGRAM_GATEWAY_EXPIRY_SWEEP_MS`,
 * `ENGRAM_GATEWAY_MAX_AGENTS`, `ENGRAM_GATEWAY_AGENT_IDLE_TTL_MS`, `ENGRAM_GATEWAY_REDACT_PII`,
 * `ENGRAM_GATEWAY_GROUP_SESSIONS_PER_USER`, `ENGRAM_GATEWAY_THREAD_SESSIONS_PER_USER` (`1`/`true`,
 * `0`/`false`), `ENGRAM_GATEWAY_INSTANCE`, `ENGRAM_GATEWAY_RESTART_WINDOW_MS`,
 * `ENGRAM_GATEWAY_RESUME_FRESHNESS_MS`, `ENGRAM_GATEWAY_MAX_INTERRUPTED_RESTARTS`,
 * `ENGRAM_GATEWAY_DRAIN_DEADLINE_MS`, `ENGRAM_GATEWAY_DUPLICATE_WAIT_MS`, `ENGRAM_GATEWAY_ROUTE_MAX_AGE_DAYS`,
 * `ENGRAM_GATEWAY_INSTANCE_TTL_MS`,
 * `ENGRAM_LOG_LEVEL`, `ENGRAM_TELEGRAM_BOT_TOKEN`, `ENGRAM_TELEGRAM_WEBHOOK_SECRET`,
 * `ENGRAM_TELEGRAM_API_BASE_URL`.
 */
export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const issues: string[] = [];
  let resetPolicy: unknown;
  if (env.ENGRAM_GATEWAY_RESET_POLICY) {
    try {
      resetPolicy = JSON.parse(env.ENGRAM_GATEWAY_RESET_POLICY);
    } catch {
      issues.push("ENGRAM_GATEWAY_RESET_POLICY: must be JSON");
    }
  }
  const defined = <T>(value: T | undefined | "") => (value === "" ? undefined : value);
  const flag = (name: string): boolean | undefined => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === "") return undefined;
    if (raw === "1" || raw === "true") return true;
    if (raw === "0" || raw === "false") return false;
    issues.push(`${name}: must be 1, true, 0 or false`);
    return undefined;
  };
  const number = (name: string): number | undefined => (env[name] ? Number(env[name]) : undefined);
  const groupSessionsPerUser = flag("ENGRAM_GATEWAY_GROUP_SESSIONS_PER_USER");
  const threadSessionsPerUser = flag("ENGRAM_GATEWAY_THREAD_SESSIONS_PER_USER");
  const redactPii = flag("ENGRAM_GATEWAY_REDACT_PII");
  const file = env.ENGRAM_GATEWAY_CONFIG_FILE?.trim()
    ? readConfigFile(env.ENGRAM_GATEWAY_CONFIG_FILE.trim(), issues)
    : {};
  if (issues.length > 0) throw new InvalidGatewayConfigError(issues);
  const fromEnv: Record<string, unknown> = {
    host: defined(env.ENGRAM_GATEWAY_HOST),
    port: defined(env.ENGRAM_GATEWAY_PORT),
    token: defined(env.ENGRAM_GATEWAY_TOKEN),
    devMode: env.ENGRAM_GATEWAY_DEV
      ? env.ENGRAM_GATEWAY_DEV === "1" || env.ENGRAM_GATEWAY_DEV === "true"
      : undefined,
    databaseUrl: defined(env.DATABASE_URL),
    dataDir: defined(env.ENGRAM_DATA_DIR),
    maxTextBytes: env.ENGRAM_GATEWAY_MAX_TEXT_BYTES ? Number(env.ENGRAM_GATEWAY_MAX_TEXT_BYTES) : undefined,
    resetPolicy,
    groupSessionsPerUser,
    threadSessionsPerUser,
    maxAgents: env.ENGRAM_GATEWAY_MAX_AGENTS ? Number(env.ENGRAM_GATEWAY_MAX_AGENTS) : undefined,
    agentIdleTtlMs: env.ENGRAM_GATEWAY_AGENT_IDLE_TTL_MS
      ? Number(env.ENGRAM_GATEWAY_AGENT_IDLE_TTL_MS)
      : undefined,
    redactPii,
    expirySweepIntervalMs: env.ENGRAM_GATEWAY_EXPIRY_SWEEP_MS
      ? Number(env.ENGRAM_GATEWAY_EXPIRY_SWEEP_MS)
      : undefined,
    instance: defined(env.ENGRAM_GATEWAY_INSTANCE),
    restartWindowMs: number("ENGRAM_GATEWAY_RESTART_WINDOW_MS"),
    resumeFreshnessMs: number("ENGRAM_GATEWAY_RESUME_FRESHNESS_MS"),
    maxInterruptedRestarts: number("ENGRAM_GATEWAY_MAX_INTERRUPTED_RESTARTS"),
    drainDeadlineMs: number("ENGRAM_GATEWAY_DRAIN_DEADLINE_MS"),
    duplicateWaitMs: number("ENGRAM_GATEWAY_DUPLICATE_WAIT_MS"),
    routeMaxAgeDays: number("ENGRAM_GATEWAY_ROUTE_MAX_AGE_DAYS"),
    instanceTtlMs: number("ENGRAM_GATEWAY_INSTANCE_TTL_MS"),
    logLevel: defined(env.ENGRAM_LOG_LEVEL),
    telegramBotToken: defined(env.ENGRAM_TELEGRAM_BOT_TOKEN),
    telegramWebhookSecret: defined(env.ENGRAM_TELEGRAM_WEBHOOK_SECRET),
    telegramApiBaseUrl: defined(env.ENGRAM_TELEGRAM_API_BASE_URL),
  };
  // The environment wins over the file; an unset variable leaves the file's value (or the default).
  const merged = { ...file };
  for (const [key, value] of Object.entries(fromEnv)) if (value !== undefined) merged[key] = value;
  return parseGatewayConfig(merged);
}

/**
 * The settings of a JSON config file (`ENGRAM_GATEWAY_CONFIG_FILE`): an object with the keys of
 * {@link GatewayConfig}. An unreadable file, bad JSON or an unknown key (a typo would otherwise be
 * ignored silently) is added to `issues`.
 */
function readConfigFile(path: string, issues: string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const why = error instanceof SyntaxError ? "is not valid JSON" : "cannot be read";
    issues.push(`ENGRAM_GATEWAY_CONFIG_FILE: ${path} ${why}`);
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    issues.push(`ENGRAM_GATEWAY_CONFIG_FILE: ${path} must hold a JSON object`);
    return {};
  }
  const known = new Set(Object.keys(gatewayConfigFields.shape));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) issues.push(`${path}: unknown setting ${JSON.stringify(key)}`);
  }
  return parsed as Record<string, unknown>;
}
