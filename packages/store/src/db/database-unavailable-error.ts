import { EngramError } from "@engram/core";

/** Why a PostgreSQL server could not be used, in terms of what the person can change. */
export type DatabaseUnavailableReason =
  | "connection_refused"
  | "host_not_found"
  | "timed_out"
  | "database_missing"
  | "login_refused";

/**
 * The PostgreSQL server a URL names cannot be used: nothing listens there, the host is unknown, the
 * database does not exist, or the login is refused. The message names the setting (`DATABASE_URL`),
 * the URL without its password, and what to do; `cause` keeps the driver error.
 */
export class DatabaseUnavailableError extends EngramError {
  readonly reason: DatabaseUnavailableReason;

  constructor(url: string, reason: DatabaseUnavailableReason, cause: unknown, variable = "DATABASE_URL") {
    const shown = redactUrl(url);
    const target = describeTarget(url);
    super("DATABASE_UNAVAILABLE", `${variable}=${shown}: ${explain(reason, target, variable)}`, {
      cause,
      details: { variable, url: shown, reason },
    });
    this.name = "DatabaseUnavailableError";
    this.reason = reason;
  }
}

/**
 * The {@link DatabaseUnavailableError} a failure to open or first use a Postgres database means, or
 * `undefined` when `error` is something else. Looks through `cause` chains (a migration failure wraps
 * the driver error) and `AggregateError`s (a host name with several addresses).
 */
export function databaseUnavailableFrom(
  error: unknown,
  url: string,
  variable = "DATABASE_URL",
): DatabaseUnavailableError | undefined {
  if (error instanceof DatabaseUnavailableError) return error;
  const reason = reasonOf(error, 0);
  return reason === undefined ? undefined : new DatabaseUnavailableError(url, reason, error, variable);
}

function reasonOf(error: unknown, depth: number): DatabaseUnavailableReason | undefined {
  if (error === null || typeof error !== "object" || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection_refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host_not_found";
    case "ETIMEDOUT":
      return "timed_out";
    case "3D000": // invalid_catalog_name: the database does not exist
      return "database_missing";
    case "28P01": // invalid_password
    case "28000": // invalid_authorization_specification: no such role, or pg_hba refuses
      return "login_refused";
  }
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const reason = reasonOf(inner, depth + 1);
      if (reason) return reason;
    }
  }
  return reasonOf((error as { cause?: unknown }).cause, depth + 1);
}

function explain(reason: DatabaseUnavailableReason, target: Target, variable: string): string {
  const elsewhere = `fix ${variable}, or unset it to use the embedded database in ENGRAM_DATA_DIR`;
  switch (reason) {
    case "connection_refused":
      return `nothing accepts connections at ${target.hostPort} (connection refused). Start PostgreSQL there, or ${elsewhere}.`;
    case "host_not_found":
      return `the host ${target.host} is not known (DNS lookup failed). ${capitalise(elsewhere)}.`;
    case "timed_out":
      return `${target.hostPort} did not answer in time. Check that PostgreSQL runs there and a firewall lets you in, or ${elsewhere}.`;
    case "database_missing":
      return `the server at ${target.hostPort} has no database ${JSON.stringify(target.database)}. Create it (createdb ${target.database}), or ${elsewhere}.`;
    case "login_refused":
      return `the server at ${target.hostPort} refused the login of user ${JSON.stringify(target.user)} (wrong password, no such role, or pg_hba.conf). Fix the credentials, or ${elsewhere}.`;
  }
}

interface Target {
  readonly host: string;
  readonly hostPort: string;
  readonly database: string;
  readonly user: string;
}

function describeTarget(url: string): Target {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || "localhost";
    return {
      host,
      hostPort: `${host}:${parsed.port || "5432"}`,
      database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || decodeURIComponent(parsed.username),
      user: decodeURIComponent(parsed.username) || "(default)",
    };
  } catch {
    return { host: "(unparsable URL)", hostPort: "(unparsable URL)", database: "", user: "" };
  }
}

/** The URL with any password replaced, so it can be printed and logged. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
