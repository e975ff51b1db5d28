import { EngramError } from "../errors/engram-error.js";

/** An agent's `commitMemorySession()` threw or rejected; the generations stay uncommitted. */
export class MemoryCommitFailedError extends EngramError {
  constructor(sessionId: string, cause: unknown) {
    super(
      "MEMORY_COMMIT_FAILED",
      `Memory commit of session ${JSON.stringify(sessionId)} failed; its uncommitted generations are kept for a retry by the same agent`,
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
