import { readFileSync } from "node:fs";
import {
  type ConfigProblem,
  configProblemsFromIssues,
  InvalidConfigError,
  parseResetPolicy,
} from "@engram/core";
import { z } from "zod";

/** The program {@link InvalidGatewayConfigError} names: the person ran the gateway. */
export const GATEWAY_APP_NAME = "the Engram gateway";

/** Thrown at start-up when configuration fails validation; `details.issues` lists every problem. */
export class InvalidGatewayConfigError extends InvalidConfigError {
  constructor(problems: readonly ConfigProblem[], app: string = GATEWAY_APP_NAME) {
    super(app, problems);
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
});

export const gatewayConfigSchema = gatewayConfigFields.superRefine((config, ctx) => {
  if (!config.token && !(config.devMode && isLoopbackHost(config.host))) {
    ctx.addIssue({
      code: "custom",
      path: ["token"],
      message: "is required unless devMode is on and the server binds a loopback host",
    });
  }
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

type GatewaySettingKey = keyof typeof gatewayConfigFields.shape;

/** How a variable's text becomes a setting's value. */
type EnvKind = "text" | "number" | "flag" | "json";

/**
 * The environment variable of every setting and how its text is read: the one table behind
 * {@link gatewayConfigFromEnv} and the names in every configuration error.
 */
export const GATEWAY_ENV_VARIABLES = {
  host: ["ENGRAM_GATEWAY_HOST", "text"],
  port: ["ENGRAM_GATEWAY_PORT", "number"],
  token: ["ENGRAM_GATEWAY_TOKEN", "text"],
  devMode: ["ENGRAM_GATEWAY_DEV", "flag"],
  databaseUrl: ["DATABASE_URL", "text"],
  dataDir: ["ENGRAM_DATA_DIR", "text"],
  maxTextBytes: ["ENGRAM_GATEWAY_MAX_TEXT_BYTES", "number"],
  resetPolicy: ["ENGRAM_GATEWAY_RESET_POLICY", "json"],
  groupSessionsPerUser: ["ENGRAM_GATEWAY_GROUP_SESSIONS_PER_USER", "flag"],
  threadSessionsPerUser: ["ENGRAM_GATEWAY_THREAD_SESSIONS_PER_USER", "flag"],
  maxAgents: ["ENGRAM_GATEWAY_MAX_AGENTS", "number"],
  agentIdleTtlMs: ["ENGRAM_GATEWAY_AGENT_IDLE_TTL_MS", "number"],
  redactPii: ["ENGRAM_GATEWAY_REDACT_PII", "flag"],
  expirySweepIntervalMs: ["ENGRAM_GATEWAY_EXPIRY_SWEEP_MS", "number"],
  instance: ["ENGRAM_GATEWAY_INSTANCE", "text"],
  restartWindowMs: ["ENGRAM_GATEWAY_RESTART_WINDOW_MS", "number"],
  resumeFreshnessMs: ["ENGRAM_GATEWAY_RESUME_FRESHNESS_MS", "number"],
  maxInterruptedRestarts: ["ENGRAM_GATEWAY_MAX_INTERRUPTED_RESTARTS", "number"],
  drainDeadlineMs: ["ENGRAM_GATEWAY_DRAIN_DEADLINE_MS", "number"],
  duplicateWaitMs: ["ENGRAM_GATEWAY_DUPLICATE_WAIT_MS", "number"],
  routeMaxAgeDays: ["ENGRAM_GATEWAY_ROUTE_MAX_AGE_DAYS", "number"],
  instanceTtlMs: ["ENGRAM_GATEWAY_INSTANCE_TTL_MS", "number"],
  logLevel: ["ENGRAM_LOG_LEVEL", "text"],
} as const satisfies Record<GatewaySettingKey, readonly [string, EnvKind]>;

const CONFIG_FILE_VARIABLE = "ENGRAM_GATEWAY_CONFIG_FILE";

export interface GatewayConfigSourceProps {
  /** The program named in errors (default {@link GATEWAY_APP_NAME}; the launcher names itself). */
  readonly app?: string;
}

/**
 * Validates configuration; every problem is reported at once, each naming the setting's key and its
 * environment variable.
 *
 * @throws InvalidGatewayConfigError (code `INVALID_CONFIG`).
 */
export function parseGatewayConfig(input: unknown, props: GatewayConfigSourceProps = {}): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidGatewayConfigError(
    configProblemsFromIssues(result.error.issues, (key) => ({ variable: variableOf(key) })),
    props.app,
  );
}

/**
 * Reads configuration from an optional JSON file (`ENGRAM_GATEWAY_CONFIG_FILE`, keys as in
 * {@link GatewayConfig}) and the environment, which wins; {@link GATEWAY_ENV_VARIABLES} names the
 * variable of every key (`ENGRAM_GATEWAY_PORT`, `ENGRAM_GATEWAY_TOKEN`, `DATABASE_URL`,
 * `ENGRAM_DATA_DIR`, ...; platform adapters read their own, see `@engram/sessions`). Flags take `1`/`true`/`0`/`false`,
 * `ENGRAM_GATEWAY_RESET_POLICY` takes JSON.
 *
 * Every problem is listed in one error: unreadable text in a variable, unknown keys in the file and
 * invalid values alike, each as `VARIABLE (key): rule` (`key in file` when the file set it).
 *
 * @throws InvalidGatewayConfigError (code `INVALID_CONFIG`).
 */
export function gatewayConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  props: GatewayConfigSourceProps = {},
): GatewayConfig {
  const problems: ConfigProblem[] = [];
  const filePath = env[CONFIG_FILE_VARIABLE]?.trim();
  const file = filePath ? readConfigFile(filePath, problems) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const [key, [variable, kind]] of Object.entries(GATEWAY_ENV_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === "") continue;
    const read = readVariable(raw, kind);
    if ("problem" in read) problems.push({ variable, key, message: read.problem });
    else fromEnv[key] = read.value;
  }
  // The environment wins over the file; an unset variable leaves the file's value (or the default).
  const merged: Record<string, unknown> = { ...file, ...fromEnv };
  // Keys whose variable could not be read are left out, so they are reported once, as above.
  for (const problem of problems) if (problem.variable && problem.key) delete merged[problem.key];
  const result = gatewayConfigSchema.safeParse(merged);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    problems.push(
      ...configProblemsFromIssues(result.error.issues, (key) => ({
        variable: variableOf(key),
        ...(filePath && !(key in fromEnv) && key in file ? { file: filePath } : {}),
      })),
    );
  }
  throw new InvalidGatewayConfigError(problems, props.app);
}

function variableOf(key: string): string | undefined {
  return (GATEWAY_ENV_VARIABLES as Record<string, readonly [string, EnvKind]>)[key]?.[0];
}

function readVariable(raw: string, kind: EnvKind): { value: unknown } | { problem: string } {
  const text = raw.trim();
  switch (kind) {
    case "text":
      return { value: raw };
    case "number": {
      const value = Number(text);
      return Number.isFinite(value) ? { value } : { problem: `must be a number, not ${JSON.stringify(raw)}` };
    }
    case "flag": {
      const lower = text.toLowerCase();
      if (lower === "1" || lower === "true") return { value: true };
      if (lower === "0" || lower === "false") return { value: false };
      return { problem: `must be 1, true, 0 or false, not ${JSON.stringify(raw)}` };
    }
    case "json":
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { problem: "must be JSON" };
      }
  }
}

/**
 * The settings of a JSON config file (`ENGRAM_GATEWAY_CONFIG_FILE`): an object with the keys of
 * {@link GatewayConfig}. An unreadable file, bad JSON or an unknown key (a typo would otherwise be
 * ignored silently) is added to `problems`; the known keys are returned for validation either way.
 */
function readConfigFile(path: string, problems: ConfigProblem[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const why =
      error instanceof SyntaxError
        ? `is not valid JSON (${error.message})`
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    problems.push({ variable: CONFIG_FILE_VARIABLE, message: `${path} ${why}` });
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push({ variable: CONFIG_FILE_VARIABLE, message: `${path} must hold a JSON object` });
    return {};
  }
  const known = Object.keys(gatewayConfigFields.shape);
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (known.includes(key)) {
      settings[key] = value;
      continue;
    }
    const near = closestKey(key, known);
    problems.push({
      key,
      file: path,
      message: `is not a gateway setting${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
    });
  }
  return settings;
}

/** The known key a typo most likely meant: same letters ignoring case, or at most two edits away. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance =
      candidate.toLowerCase() === key.toLowerCase()
        ? 0
        : editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
