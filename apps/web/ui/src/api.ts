/** The web server's HTTP contract, as the UI uses it. */

export interface Project {
  id: string;
  name: string;
}
export interface SessionSummary {
  id: string;
  title: string;
  projectId: string | null;
  source: string;
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
}
export interface MessagingSession {
  sessionId: string;
  sessionKey: string | null;
  platform: string;
  chatType: string | null;
  title: string;
  messageCount: number;
  updatedAt: number;
}
export interface MemoryPanel {
  providers: { name: string; lastRecall: string | null }[];
  uncommittedTurns: number;
  lastCommit: { at: number; status: string } | null;
}

/** A failed API call: the server's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function csrfToken(): string {
  const match = document.cookie.split("; ").find((c) => c.startsWith("engram_csrf="));
  return match ? decodeURIComponent(match.slice("engram_csrf=".length)) : "";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(method === "GET" ? {} : { "x-csrf-token": csrfToken() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 204) return undefined as T;
  const payload = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string };
  };
  if (!response.ok) {
    throw new ApiError(
      response.status,
      payload.error?.code ?? "HTTP_ERROR",
      payload.error?.message ?? response.statusText,
    );
  }
  return payload as T;
}
