import { EngramError } from "@engram/core";

/**
 * A Hindsight request failed. Code `UNAUTHORIZED` for a 401, `PROVIDER_TIMEOUT` when the request did
 * not answer in time, `PROVIDER_FAILED` otherwise. `details.status` is the HTTP status when there was
 * one and `details.detail` the server's FastAPI `detail`.
 */
export class HindsightRequestError extends EngramError {
  constructor(
    operation: string,
    kind: { status: number; detail: unknown } | { timeoutMs: number } | { cause: unknown },
  ) {
    if ("status" in kind) {
      super(
        kind.status === 401 ? "UNAUTHORIZED" : "PROVIDER_FAILED",
        `Hindsight ${operation} answered HTTP ${kind.status}: ${JSON.stringify(kind.detail).slice(0, 300)}`,
        { details: { operation, status: kind.status, detail: kind.detail } },
      );
    } else if ("timeoutMs" in kind) {
      super("PROVIDER_TIMEOUT", `Hindsight ${operation} did not answer within ${kind.timeoutMs} ms`, {
        details: { operation, timeoutMs: kind.timeoutMs },
      });
    } else {
      const reason = kind.cause instanceof Error ? kind.cause.message : String(kind.cause);
      super("PROVIDER_FAILED", `Hindsight ${operation} failed: ${reason}`, {
        cause: kind.cause,
        details: { operation },
      });
    }
    this.name = "HindsightRequestError";
  }
}
