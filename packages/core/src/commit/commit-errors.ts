import { EngramError } from "../errors/engram-error.js";

const MAX_CAUSE_CHARS = 500;

/**
 * What went wrong, for the person reading the log: the message of `cause`, or of each of several
 * (an agent fails once per failing provider). Logs serialise the error, not an array in its cause.
 */
function describeCause(cause: unknown): string {
  const causes = (Array.isArray(cause) ? cause : [cause]).filter((c) => c !== undefined && c !== null);
  const text = causes.map((c) => (c instanceof Error ? c.message : String(c))).join("; ");
  return text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS - 3)}...` : text;
}

/** An agent's `commitMemorySession()` threw or rejected; the generations stay uncommitted. */
export class MemoryCommitFailedError extends EngramError {
  constructor(sessionId: string, cause: unknown) {
    const why = describeCause(cause);
    super(
      "MEMORY_COMMIT_FAILED",
      `Memory commit of session ${JSON.stringify(sessionId)} failed${why ? ` (${why})` : ""}; its uncommitted generations are kept for a retry by the same agent`,
      { cause, details: { sessionId } },
    );
    this.name = "MemoryCommitFailedError";
  }
}

/** The commit ledger (its backing store) failed; reported per session by `drainAll`. */
export class CommitLedgerFailedError extends EngramError {
  constructor(cause: unknown) {
    super("STORE_FAILED", "The commit ledger failed", { cause });
    this.name = "CommitLedgerFailedError";
  }
}
