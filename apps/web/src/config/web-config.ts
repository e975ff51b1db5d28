import { type ConfigProblem, configProblemsFromIssues, InvalidConfigError } from "@engram/core";
import { z } from "zod";

/** The program {@link InvalidWebConfigError} names: the person ran the web server. */
export const WEB_APP_NAME = "the Engram web server";

/** Thrown at start-up when configuration fails validation; `details.issues` lists every problem. */
export class InvalidWebConfigError extends InvalidConfigError {
  constructor(problems: readonly ConfigProblem[], app: string = WEB_APP_NAME) {
    super(app, problems);
    this.name = "InvalidWebConfigError";
  }
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}

export const webConfigSchema = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.coerce.number().int().min(0).max(65_535).default(8788),
    /** Login token; required when the server binds a non-loopback host. */
    token: z.string().min(16, "must be at least 16 characters").optional(),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
    dataDir: z.string().min(1).default("./.engram/data"),
    /** Live agents; the least recently used idle one is committed and dropped beyond it (seed 000: 25). */
    maxAgents: z.number().int().positive().default(25),
    /**
     * A web session whose memory is uncommitted and that nobody touched for this long (ms) is committed
     * by the server's sweep, with no request needed (default 30 minutes).
     */
    idleCommitMs: z
      .number()
      .int()
      .min(1000)
      .default(30 * 60 * 1000),
    /**
     * This process's name for restart safety: a start after a killed run of the same name adopts the
     * memory work that run left at once. One process per name at a time.
     */
    instance: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -")
      .default("web"),
    /** Largest chat message, in UTF-8 bytes. */
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    /** Built UI assets; served at `/` when the folder exists. */
    uiDir: z.string().optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((config, ctx) => {
    if (!config.token && !isLoopbackHost(config.host)) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "is required when the host is not loopback" });
    }
  });

export type WebConfig = z.output<typeof webConfigSchema>;

type WebSettingKey = keyof z.input<typeof webConfigSchema>;

/** The environment variable of each setting that has one, and whether its text is a number. */
export const WEB_ENV_VARIABLES = {
  host: ["ENGRAM_WEB_HOST", "text"],
  port: ["ENGRAM_WEB_PORT", "number"],
  token: ["ENGRAM_WEB_TOKEN", "text"],
  databaseUrl: ["DATABASE_URL", "text"],
  dataDir: ["ENGRAM_DATA_DIR", "text"],
  maxAgents: ["ENGRAM_WEB_MAX_AGENTS", "number"],
  idleCommitMs: ["ENGRAM_WEB_IDLE_COMMIT_MS", "number"],
  instance: ["ENGRAM_WEB_INSTANCE", "text"],
  uiDir: ["ENGRAM_WEB_UI_DIR", "text"],
  logLevel: ["ENGRAM_LOG_LEVEL", "text"],
} as const satisfies Partial<Record<WebSettingKey, readonly [string, "text" | "number"]>>;

export interface WebConfigSourceProps {
  /** The program named in errors (default {@link WEB_APP_NAME}; the launcher names itself). */
  readonly app?: string;
}

/** @throws InvalidWebConfigError (code `INVALID_CONFIG`) listing every problem, each with its variable. */
export function parseWebConfig(input: unknown, props: WebConfigSourceProps = {}): WebConfig {
  const result = webConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidWebConfigError(
    configProblemsFromIssues(result.error.issues, (key) => ({ variable: variableOf(key) })),
    props.app,
  );
}

/**
 * Reads {@link WEB_ENV_VARIABLES} (`ENGRAM_WEB_HOST`, `ENGRAM_WEB_PORT`, `ENGRAM_WEB_TOKEN`,
 * `DATABASE_URL`, `ENGRAM_DATA_DIR`, ...); blank counts as unset.
 *
 * @throws InvalidWebConfigError (code `INVALID_CONFIG`) listing every problem at once, each as
 *   `VARIABLE (key): rule`.
 */
export function webConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  props: WebConfigSourceProps = {},
): WebConfig {
  const problems: ConfigProblem[] = [];
  const input: Record<string, unknown> = {};
  for (const [key, [variable, kind]] of Object.entries(WEB_ENV_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === "") continue;
    if (kind === "number" && !Number.isFinite(Number(raw.trim()))) {
      problems.push({ variable, key, message: `must be a number, not ${JSON.stringify(raw)}` });
    } else input[key] = kind === "number" ? Number(raw.trim()) : raw;
  }
  const result = webConfigSchema.safeParse(input);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    problems.push(...configProblemsFromIssues(result.error.issues, (key) => ({ variable: variableOf(key) })));
  }
  throw new InvalidWebConfigError(problems, props.app);
}

function variableOf(key: string): string | undefined {
  return (WEB_ENV_VARIABLES as Record<string, readonly [string, string]>)[key]?.[0];
}
