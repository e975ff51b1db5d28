import { spawnSync } from "node:child_process";

/** A database engine a suite runs against. */
export type TestBackend =
  | { readonly name: "pglite" }
  | {
      readonly name: "postgres";
      /** Connection string of the shared server (from `DATABASE_URL`). */
      readonly url: string;
    };

export interface TestBackendsProps {
  /** Environment to read (defaults to `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Check that the Postgres server accepts TCP connections (default true). */
  readonly probe?: boolean;
}

/** Thrown when `CI=true`, `DATABASE_URL` is set and the server cannot be reached: CI never skips a lane. */
export class TestDatabaseUnreachableError extends Error {
  constructor(url: string, reason: string) {
    super(
      `DATABASE_URL ${redact(url)} is set but unreachable (${reason}); CI=true never skips the Postgres lane`,
    );
    this.name = "TestDatabaseUnreachableError";
  }
}

const probeCache = new Map<string, string | undefined>();

/**
 * The backends every database suite runs on: PGlite always; Postgres when `DATABASE_URL` is set.
 * When the server does not answer, CI (`CI=true`) fails loudly with {@link TestDatabaseUnreachableError};
 * a developer machine drops the lane with a warning. The probe runs once per process and URL.
 */
export function testBackends(props: TestBackendsProps = {}): TestBackend[] {
  const env = props.env ?? process.env;
  const backends: TestBackend[] = [{ name: "pglite" }];
  const url = env.DATABASE_URL?.trim();
  if (!url) return backends;
  const failure = props.probe === false ? undefined : probeOnce(url);
  if (failure === undefined) {
    backends.push({ name: "postgres", url });
  } else if (env.CI === "true") {
    throw new TestDatabaseUnreachableError(url, failure);
  } else {
    console.warn(`[engram/store] skipping the Postgres lane: ${redact(url)} is unreachable (${failure})`);
  }
  return backends;
}

function probeOnce(url: string): string | undefined {
  if (!probeCache.has(url)) probeCache.set(url, probe(url));
  return probeCache.get(url);
}

// Suites register their `describe` blocks synchronously, so the reachability check must be synchronous
// too: a child process tries a TCP connect and reports through its exit code.
function probe(url: string): string | undefined {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname || "127.0.0.1";
    port = Number(parsed.port || 5432);
  } catch {
    return "not a valid URL";
  }
  const script = `const s=require("node:net").connect(${port},${JSON.stringify(host)});s.setTimeout(3000,()=>process.exit(2));s.on("connect",()=>process.exit(0));s.on("error",()=>process.exit(1));`;
  const result = spawnSync(process.execPath, ["-e", script], { timeout: 5000, stdio: "ignore" });
  if (result.status === 0) return undefined;
  return result.status === 2 || result.signal ? "connect timed out" : "connection refused";
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
