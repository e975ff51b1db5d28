import { type ErrorCode, httpStatusFor } from "./error-codes.js";

/**
 * Base class of every error Engram throws on purpose. `code` is stable and machine-readable (assert on
 * it, never on `message`); `cause` keeps the wrapped error.
 */
export class EngramError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EngramError";
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return httpStatusFor(this.code);
  }

  /** The JSON body HTTP layers send: `{ error: { code, message, details? } }`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: { ...this.details } } : {}),
      },
    };
  }
}

export function isEngramError(value: unknown): value is EngramError {
  return value instanceof EngramError;
}

/** An identifier failed validation (empty, too long, or path-unsafe). */
export class InvalidIdError extends EngramError {
  constructor(kind: string, value: unknown, rule: string) {
    super("INVALID_ID", `Invalid ${kind} ${JSON.stringify(String(value)).slice(0, 120)}: ${rule}`, {
      details: { kind, rule },
    });
    this.name = "InvalidIdError";
  }
}

/** An argument is missing or malformed. */
export class InvalidArgumentError extends EngramError {
  constructor(argument: string, rule: string) {
    super("INVALID_ARGUMENT", `Invalid argument "${argument}": ${rule}`, { details: { argument, rule } });
    this.name = "InvalidArgumentError";
  }
}

/** Content larger than the configured limit. Nothing was written. */
export class ContentTooLargeError extends EngramError {
  constructor(what: string, size: number, limit: number) {
    super("CONTENT_TOO_LARGE", `${what} is ${size} bytes, over the limit of ${limit} bytes`, {
      details: { what, size, limit },
    });
    this.name = "ContentTooLargeError";
  }
}

/** A referenced session does not exist. */
export class SessionNotFoundError extends EngramError {
  constructor(sessionId: string) {
    super("SESSION_NOT_FOUND", `Session ${JSON.stringify(sessionId)} does not exist`, {
      details: { sessionId },
    });
    this.name = "SessionNotFoundError";
  }
}

/** A referenced resource other than a session does not exist. */
export class NotFoundError extends EngramError {
  constructor(kind: string, id: string) {
    super("NOT_FOUND", `${kind} ${JSON.stringify(id)} does not exist`, { details: { kind, id } });
    this.name = "NotFoundError";
  }
}

/** The request conflicts with current state (duplicate title, active stream, ...). */
export class ConflictError extends EngramError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details ? { details } : undefined);
    this.name = "ConflictError";
  }
}

/** An operation ran past its deadline. */
export class DeadlineExceededError extends EngramError {
  constructor(operation: string, deadlineMs: number) {
    super("DEADLINE_EXCEEDED", `${operation} did not finish within ${deadlineMs} ms`, {
      details: { operation, deadlineMs },
    });
    this.name = "DeadlineExceededError";
  }
}

/** The backing store failed; `cause` holds the driver error. */
export class StoreError extends EngramError {
  constructor(operation: string, cause: unknown) {
    super("STORE_FAILED", `Store operation ${operation} failed`, { cause, details: { operation } });
    this.name = "StoreError";
  }
}
