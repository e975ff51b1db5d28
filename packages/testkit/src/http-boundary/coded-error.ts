import { httpStatusFor, isErrorCode } from "@engram/core";
import type { RawHttpResponse } from "./raw-http-request.js";

/**
 * What is wrong with an error response, or `undefined` when it is the shape every Engram server sends:
 * a JSON `{ error: { code, message } }` whose code is in the catalog and whose status is the code's.
 * A response below 400 is never a problem; a HEAD response has no body to check (only its status).
 */
export function codedErrorProblem(method: string, response: RawHttpResponse): string | undefined {
  if (response.status < 400) return undefined;
  if (response.status >= 500) return `a ${response.status} (server error)`;
  if (method === "HEAD") return undefined;
  if (!String(response.headers["content-type"] ?? "").includes("application/json")) {
    return `a ${response.status} whose content type is ${String(response.headers["content-type"])}, not JSON`;
  }
  const error = (response.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!error || typeof error.message !== "string")
    return `a ${response.status} without { error: { code, message } }`;
  if (!isErrorCode(error.code))
    return `a ${response.status} with ${JSON.stringify(error.code)}, not a catalog code`;
  if (httpStatusFor(error.code) !== response.status) {
    return `a ${response.status} with code ${error.code}, whose status is ${httpStatusFor(error.code)}`;
  }
  return undefined;
}
