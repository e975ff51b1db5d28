/** One entry of a FastAPI 422 body (`HTTPValidationError.detail[]`). */
export interface ValidationIssue {
  readonly type: string;
  readonly loc: ReadonlyArray<string | number>;
  readonly msg: string;
  readonly input?: unknown;
  readonly ctx?: Record<string, unknown>;
}

/** An HTTP error carrying the body FastAPI would send: `{"detail": ...}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.name = "HttpError";
  }
}

/** 422 with the issues found; callers collect every issue before throwing, as pydantic does. */
export class RequestValidationError extends HttpError {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(422, issues);
    this.name = "RequestValidationError";
  }
}
