import { EngramError, type ErrorCode } from "@engram/core";

/** OpenViking's wire codes mapped onto Engram's catalog; anything unknown is the provider failing. */
const REMOTE_TO_ENGRAM: Readonly<Record<string, ErrorCode>> = {
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  INVALID_URI: "INVALID_ARGUMENT",
  NOT_FOUND: "NOT_FOUND",
  ALREADY_EXISTS: "CONFLICT",
  CONFLICT: "CONFLICT",
  UNAUTHENTICATED: "UNAUTHORIZED",
  PERMISSION_DENIED: "FORBIDDEN",
  DEADLINE_EXCEEDED: "PROVIDER_TIMEOUT",
};

export interface OpenVikingErrorDetails {
  /** The server's `error.code` (`NOT_FOUND`, `INVALID_ARGUMENT`, ...), or `TIMEOUT` / `NETWORK`. */
  readonly remoteCode: string;
  /** HTTP status, when a response arrived. */
  readonly httpStatus: number | undefined;
  readonly method: string;
  readonly path: string;
}

/**
 * A failed OpenViking call. `code` is Engram's (`INVALID_ARGUMENT`, `NOT_FOUND`, `UNAUTHORIZED`,
 * `PROVIDER_TIMEOUT`, `PROVIDER_FAILED`, ...); `remote` keeps what the server said.
 */
export class OpenVikingError extends EngramError {
  readonly remote: OpenVikingErrorDetails;

  constructor(remote: OpenVikingErrorDetails, message: string, cause?: unknown) {
    super(
      REMOTE_TO_ENGRAM[remote.remoteCode] ??
        (remote.remoteCode === "TIMEOUT" ? "PROVIDER_TIMEOUT" : "PROVIDER_FAILED"),
      message,
      {
        cause,
        details: { ...remote },
      },
    );
    this.name = "OpenVikingError";
    this.remote = remote;
  }

  /** Worth another attempt: the server was unreachable, overloaded or briefly unavailable. */
  get retryable(): boolean {
    const s = this.remote.httpStatus;
    return this.remote.remoteCode === "NETWORK" || s === 429 || s === 502 || s === 503 || s === 504;
  }
}

export function isOpenVikingError(value: unknown): value is OpenVikingError {
  return value instanceof OpenVikingError;
}
