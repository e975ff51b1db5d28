import { EngramError, type ErrorCode } from "@engram/core";

/**
 * One thing wrong with a host's configuration, found at start. `path` names where it is: a key of
 * `engram.config.json` (`memory.providers[1].config.baseUrl`), an environment variable
 * (`ENGRAM_CONFIG`) or a file.
 */
export interface StartupProblem {
  /** `INVALID_CONFIG`, `PLUGIN_NOT_FOUND`, `PLUGIN_INVALID`, `PLUGIN_INCOMPATIBLE`, `PROVIDER_CONFLICT` or `ADAPTER_CONFLICT`. */
  readonly code: ErrorCode;
  readonly path: string;
  readonly message: string;
  /** The plugin's package name, when the problem is about one. */
  readonly plugin?: string;
}

/** The line a person reads: `path: message`. */
export function formatStartupProblem(problem: StartupProblem): string {
  return `${problem.path}: ${problem.message}`;
}

/**
 * Start-up stops: the configuration has problems. Every problem found is listed (the message has one
 * per line, `details.problems` has them with their codes), not just the first one.
 */
export class EngramConfigError extends EngramError {
  readonly problems: readonly StartupProblem[];

  constructor(problems: readonly StartupProblem[]) {
    super(
      "INVALID_CONFIG",
      `Engram cannot start: ${problems.length} configuration problem${problems.length === 1 ? "" : "s"}\n  - ${problems
        .map(formatStartupProblem)
        .join("\n  - ")}`,
      { details: { problems: problems.map((problem) => ({ ...problem })) } },
    );
    this.name = "EngramConfigError";
    this.problems = problems;
  }
}

/** `["memory", "providers", 1, "plugin"]` as `memory.providers[1].plugin`. */
export function formatConfigPath(segments: readonly PropertyKey[], prefix = ""): string {
  let path = prefix;
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else path += path === "" ? String(segment) : `.${String(segment)}`;
  }
  return path;
}
