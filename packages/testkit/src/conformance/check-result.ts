/**
 * The outcome of one conformance check. Checks are plain async functions returning this, so they run
 * without Vitest too; the Vitest suites only translate it into a passed, failed or skipped test.
 */
export type CheckResult =
  | { readonly ok: true; readonly skipped?: string }
  | { readonly ok: false; readonly reason: string };

/** Thrown inside a check to end it with a failure; the harness turns it into `{ ok: false }`. */
export class CheckFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "CheckFailure";
  }
}

/** Thrown inside a check to end it as skipped (the provider lacks what the check needs). */
export class CheckSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "CheckSkipped";
  }
}

export function fail(reason: string): never {
  throw new CheckFailure(reason);
}

export function skipCheck(reason: string): never {
  throw new CheckSkipped(reason);
}

/** A short, safe rendering of a thrown value for failure reasons. */
export function describeThrown(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return `${value.name}${typeof code === "string" ? ` [${code}]` : ""}: ${value.message}`;
  }
  try {
    return `non-Error value ${JSON.stringify(value)?.slice(0, 200)}`;
  } catch {
    return `non-Error value ${String(value).slice(0, 200)}`;
  }
}
