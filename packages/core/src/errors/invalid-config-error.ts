import { EngramError } from "./engram-error.js";

/** One configuration problem: which setting, where it was set, and the rule its value breaks. */
export interface ConfigProblem {
  /** The environment variable of the setting (`ENGRAM_GATEWAY_TOKEN`), when it has one. */
  readonly variable?: string;
  /** The setting's key in a config file and in the parsed configuration (`token`). */
  readonly key?: string;
  /** The config file the bad value came from; absent when it came from the environment or a default. */
  readonly file?: string;
  /** What is wrong, as the rule the value breaks ("must be at least 16 characters"). */
  readonly message: string;
}

/**
 * A problem as one line that names both ways to set the setting, so the reader can fix it wherever
 * they set it: `ENGRAM_GATEWAY_TOKEN (token): must be at least 16 characters`,
 * `ENGRAM_GATEWAY_PORT (port in ./gateway.json): ...`, `maxAgent in ./gateway.json: is not a setting`.
 */
export function formatConfigProblem(problem: ConfigProblem): string {
  const inFile = problem.file === undefined ? undefined : `in ${problem.file}`;
  const where = [problem.key, inFile].filter((part) => part !== undefined).join(" ");
  let name: string;
  if (problem.variable === undefined) name = where === "" ? "configuration" : where;
  else name = where === "" ? problem.variable : `${problem.variable} (${where})`;
  return `${name}: ${problem.message}`;
}

/**
 * Start-up configuration failed validation. Lists every problem at once (not the first one found), and
 * names the program the person ran (`app`: "the Engram gateway", "Engram (pnpm start)"), since one
 * setting can belong to several programs. `details.issues` holds the formatted lines,
 * `details.problems` the structured ones.
 */
export class InvalidConfigError extends EngramError {
  readonly app: string;
  readonly problems: readonly ConfigProblem[];

  constructor(app: string, problems: readonly ConfigProblem[]) {
    const issues = dedupe(problems.map(formatConfigProblem));
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super("INVALID_CONFIG", `Invalid configuration of ${app} (${count}):\n  - ${issues.join("\n  - ")}`, {
      details: { app, issues, problems: problems.map((problem) => ({ ...problem })) },
    });
    this.name = "InvalidConfigError";
    this.app = app;
    this.problems = problems;
  }
}

export function isInvalidConfigError(value: unknown): value is InvalidConfigError {
  return value instanceof InvalidConfigError;
}

function dedupe(lines: readonly string[]): string[] {
  return [...new Set(lines)];
}

/** A schema validation issue, as zod and similar libraries report one. */
export interface ValidationIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Schema issues as {@link ConfigProblem}s: the first path segment is the setting's key, and
 * `describe(key)` tells its environment variable and the file its value came from.
 */
export function configProblemsFromIssues(
  issues: readonly ValidationIssue[],
  describe: (key: string) => { readonly variable?: string; readonly file?: string },
): ConfigProblem[] {
  return issues.map((issue) => {
    const key = issue.path.map(String).join(".");
    const top = issue.path[0] === undefined ? undefined : String(issue.path[0]);
    const where = top === undefined ? {} : describe(top);
    return {
      ...(where.variable === undefined ? {} : { variable: where.variable }),
      ...(key === "" ? {} : { key }),
      ...(where.file === undefined ? {} : { file: where.file }),
      message: issue.message,
    };
  });
}
