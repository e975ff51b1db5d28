/** The web server's HTTP contract, as the UI uses it, and the mapping of failures to what a person reads. */
import { connection } from "../state/connection.js";

export interface Project {
  id: string;
  name: string;
}
export interface SessionSummary {
  id: string;
  title: string;
  projectId: string | null;
  source: string;
  model?: string | null;
  pinned: boolean;
  archived: boolean;
  messageCount: number;
  updatedAt: number;
}
export interface SessionMessage {
  id: number;
  role: string;
  content: string | null;
  toolName?: string | null;
  toolCalls?: unknown;
  createdAt: number;
}
export interface Session extends SessionSummary {
  messages: SessionMessage[];
  streaming?: boolean;
}
export interface MessagingSession {
  sessionId: string;
  sessionKey: string | null;
  platform: string;
  chatType: string | null;
  title: string;
  messageCount: number;
  updatedAt: number;
  ended?: boolean;
  userId?: string | null;
  chatId?: string | null;
  threadId?: string | null;
  userName?: string | null;
  chatName?: string | null;
  archived?: boolean;
}
export interface MessagingTranscript extends MessagingSession {
  source: string;
  model?: string | null;
  messages: SessionMessage[];
}
export interface MemoryPanel {
  providers: { name: string; lastRecall: string | null }[];
  uncommittedTurns: number;
  lastCommit: { at: number; status: string } | null;
}
export interface SearchResult {
  sessionId: string;
  title: string;
  snippet: string;
}

/** A failed API call: the server's error code and message (`SERVER_UNREACHABLE` when no answer came). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The server did not answer at all (it is down, restarting, or the network is gone). */
export const SERVER_UNREACHABLE = "SERVER_UNREACHABLE";

function csrfToken(): string {
  const match = document.cookie.split("; ").find((c) => c.startsWith("engram_csrf="));
  return match ? decodeURIComponent(match.slice("engram_csrf=".length)) : "";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(method === "GET" ? {} : { "x-csrf-token": csrfToken() }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    // fetch rejects only when no HTTP answer arrived ("Failed to fetch"): say so in words.
    connection.markDown();
    throw new ApiError(0, SERVER_UNREACHABLE, "The Engram server is not answering", {
      cause: String(cause),
    });
  }
  connection.markUp();
  if (response.status === 204) return undefined as T;
  const payload = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
  };
  if (!response.ok) {
    // A proxy in front of a stopped server answers 502/503/504 without our error shape.
    const code =
      payload.error?.code ??
      (response.status >= 502 && response.status <= 504 ? SERVER_UNREACHABLE : "HTTP_ERROR");
    throw new ApiError(
      response.status,
      code,
      payload.error?.message ?? (response.statusText || `HTTP ${response.status}`),
      payload.error?.details,
    );
  }
  return payload as T;
}

/** What went wrong and what to do about it, in a person's words. */
export interface FailureDescription {
  /** Stable class for styling and tests: `server-unreachable`, `model-unreachable`, `model-auth`, ... */
  readonly kind: string;
  readonly title: string;
  readonly hint: string;
}

/** A failure from `api()` or from a chat stream's `error` event (`{ code, message, details }`). */
export function describeFailure(error: unknown): FailureDescription {
  const code =
    error instanceof ApiError ? error.code : ((error as { code?: string } | null)?.code ?? "INTERNAL");
  const message =
    error instanceof Error ? error.message : ((error as { message?: string } | null)?.message ?? "");
  const details =
    error instanceof ApiError
      ? error.details
      : (error as { details?: Record<string, unknown> } | null)?.details;
  if (code === SERVER_UNREACHABLE)
    return {
      kind: "server-unreachable",
      title: "Can't reach the Engram server",
      hint: "It may be restarting. Your text is kept; try again once it is back.",
    };
  if (code === "UNAUTHORIZED")
    return { kind: "unauthorized", title: "You are logged out", hint: "Reload the page and log in again." };
  if (code === "STREAM_ACTIVE")
    return {
      kind: "busy",
      title: "A reply is still being written",
      hint: "Wait for it to finish or press Stop.",
    };
  if (code === "SESSION_NOT_FOUND")
    return {
      kind: "not-found",
      title: "This session no longer exists",
      hint: "Pick another one from the list.",
    };
  const stopReason =
    (details?.stopReason as string | undefined) ?? (/model_error/.test(message) ? "model_error" : "");
  if (code === "MODEL_FAILED" || stopReason === "model_error") return describeModelFailure(message, details);
  if (stopReason === "aborted" || /cancelled/i.test(message))
    return { kind: "cancelled", title: "Reply stopped", hint: "Press Retry to ask again." };
  return { kind: "error", title: message || "Something went wrong", hint: code };
}

function describeModelFailure(message: string, details?: Record<string, unknown>): FailureDescription {
  const status =
    typeof details?.status === "number" ? details.status : Number(/HTTP (\d{3})/.exec(message)?.[1]);
  if (status === 401 || status === 403)
    return {
      kind: "model-auth",
      title: "The model server refused the API key",
      hint: "Set ENGRAM_MODEL_API_KEY (or OPENAI_API_KEY) to a valid key and restart Engram.",
    };
  if (status === 429)
    return {
      kind: "model-rate-limit",
      title: "The model server is rate limiting",
      hint: "Wait a moment and press Retry, or raise the limit of your model account.",
    };
  if (status === 404)
    return {
      kind: "model-not-found",
      title: "The model server does not know this model",
      hint: "Check ENGRAM_MODEL (the model name) and ENGRAM_MODEL_BASE_URL.",
    };
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|timed? ?out|network/i.test(message))
    return {
      kind: "model-unreachable",
      title: "The model could not be reached",
      hint: "Check that the model server runs and that ENGRAM_MODEL_BASE_URL points at it (with /v1).",
    };
  // The turn's error event may not say why (no HTTP status): name every setting that can cause it.
  if (!status)
    return {
      kind: "model-failed",
      title: "The model call failed",
      hint: "Check ENGRAM_MODEL (model name), ENGRAM_MODEL_BASE_URL (server, with /v1) and ENGRAM_MODEL_API_KEY; the server log has the model server's answer.",
    };
  // Another 4xx: the server refused what was asked (model name, parameters, a too-long context).
  if (status >= 400 && status < 500)
    return {
      kind: "model-rejected",
      title: `The model server refused the request (HTTP ${status})`,
      hint: "Check ENGRAM_MODEL (a model this server serves) and ENGRAM_MODEL_BASE_URL; the server log has the model server's answer.",
    };
  return {
    kind: "model-error",
    title: `The model server failed (HTTP ${status})`,
    hint: "Press Retry; if it keeps failing, check the model server's logs.",
  };
}
