import { EngramError } from "@engram/core";
import { z } from "zod";

/** Thrown at start-up when configuration fails validation; `details.issues` lists every problem. */
export class InvalidWebConfigError extends EngramError {
  constructor(issues: readonly string[]) {
    super("INVALID_CONFIG", `Invalid web configuration:\n  - ${issues.join("\n  - ")}`, {
      details: { issues: [...issues] },
    });
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

/** @throws InvalidWebConfigError (code `INVALID_CONFIG`) listing every problem. */
export function parseWebConfig(input: unknown): WebConfig {
  const result = webConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidWebConfigError(
    result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
  );
}

/** `ENGRAM_WEB_HOST`, `ENGRAM_WEB_PORT`, `ENGRAM_WEB_TOKEN`, `DATABASE_URL`, `ENGRAM_DATA_DIR`, ... */
export function webConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const blank = (value: string | undefined) =>
    value === undefined || value.trim() === "" ? undefined : value;
  const number = (value: string | undefined) => (blank(value) === undefined ? undefined : Number(value));
  return parseWebConfig({
    host: blank(env.ENGRAM_WEB_HOST),
    port: blank(env.ENGRAM_WEB_PORT),
    token: blank(env.ENGRAM_WEB_TOKEN),
    databaseUrl: blank(env.DATABASE_URL),
    dataDir: blank(env.ENGRAM_DATA_DIR),
    maxAgents: number(env.ENGRAM_WEB_MAX_AGENTS),
    uiDir: blank(env.ENGRAM_WEB_UI_DIR),
    logLevel: blank(env.ENGRAM_LOG_LEVEL),
  });
}
