/**
 * The OpenViking error envelope: `{ status: "error", error: { code, message, details? }, time }` with
 * the HTTP status the public API documents for each code (docs/en/api/01-overview.md, "Error Codes").
 */
export const OPENVIKING_ERROR_STATUS = {
  INVALID_ARGUMENT: 400,
  INVALID_URI: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 412,
  CONFLICT: 409,
  DEADLINE_EXCEEDED: 504,
  UNAVAILABLE: 503,
  PROCESSING_ERROR: 500,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  SESSION_EXPIRED: 410,
} as const;

export type OpenVikingErrorCode = keyof typeof OPENVIKING_ERROR_STATUS;

/** A request the stand-in server refuses; the router turns it into the error envelope. */
export class OpenVikingWireError extends Error {
  readonly code: OpenVikingErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: OpenVikingErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "OpenVikingWireError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return OPENVIKING_ERROR_STATUS[this.code];
  }
}
