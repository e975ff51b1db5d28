import { EngramError } from "@engram/core";

/**
 * A model call failed (HTTP error after retries, network failure, malformed answer). The HTTP status,
 * when there was one, is in `details.status`; the client's error is the `cause`.
 */
export class ModelCallError extends EngramError {
  constructor(model: string, status: number | undefined, cause: unknown) {
    const what = status === undefined ? "failed" : `failed with HTTP ${status}`;
    super(
      "MODEL_FAILED",
      `Call to model "${model}" ${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
        details: { model, ...(status === undefined ? {} : { status }) },
      },
    );
    this.name = "ModelCallError";
  }
}
