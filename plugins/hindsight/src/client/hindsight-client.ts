import { HindsightRequestError } from "./hindsight-request-error.js";
import type {
  DeleteDocumentResponse,
  ListMemoryUnitsResponse,
  MemoryUnit,
  OperationStatusResponse,
  RecallRequest,
  RecallResponse,
  ReflectRequest,
  ReflectResponse,
  RetainRequest,
  RetainResponse,
  UpdateMemoryRequest,
  VersionResponse,
} from "./hindsight-wire.js";

export interface HindsightClientProps {
  /** Server root, e.g. `https://api.hindsight.vectorize.io` (a trailing `/` is ignored). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Bound of every request, in ms. */
  readonly timeoutMs: number;
  /** Injected for tests; defaults to the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Aborts the request early (shutdown); the timeout still applies. */
  readonly signal?: AbortSignal;
  /** Overrides the client's timeout for this request. */
  readonly timeoutMs?: number;
}

/**
 * A small typed client of the Hindsight endpoints the provider uses. Every request is bounded by a
 * timeout (an unanswered socket never hangs a hook) and every failure is a {@link HindsightRequestError}.
 */
export class HindsightClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly props: HindsightClientProps) {
    this.baseUrl = props.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = props.fetch ?? fetch;
  }

  private bank(bankId: string, path: string): string {
    return `/v1/default/banks/${encodeURIComponent(bankId)}${path}`;
  }

  version(options?: RequestOptions): Promise<VersionResponse> {
    return this.request("version", "GET", "/version", undefined, { ...options, idempotent: true });
  }

  retain(bankId: string, body: RetainRequest, options?: RequestOptions): Promise<RetainResponse> {
    // Only an async retain with its own operation_id can be sent twice without storing twice.
    const idempotent = body.async === true && body.operation_id !== undefined;
    return this.request("retain", "POST", this.bank(bankId, "/memories"), body, { ...options, idempotent });
  }

  recall(bankId: string, body: RecallRequest, options?: RequestOptions): Promise<RecallResponse> {
    return this.request("recall", "POST", this.bank(bankId, "/memories/recall"), body, {
      ...options,
      idempotent: true,
    });
  }

  reflect(bankId: string, body: ReflectRequest, options?: RequestOptions): Promise<ReflectResponse> {
    return this.request("reflect", "POST", this.bank(bankId, "/reflect"), body, {
      ...options,
      idempotent: true,
    });
  }

  operationStatus(
    bankId: string,
    operationId: string,
    options?: RequestOptions,
  ): Promise<OperationStatusResponse> {
    return this.request(
      "operation status",
      "GET",
      this.bank(bankId, `/operations/${encodeURIComponent(operationId)}`),
      undefined,
      { ...options, idempotent: true },
    );
  }

  /** Memory units of a bank, newest first; `type` and `q` (text) filter them. */
  listMemories(
    bankId: string,
    query: { type?: string; q?: string; limit?: number; offset?: number } = {},
    options?: RequestOptions,
  ): Promise<ListMemoryUnitsResponse> {
    const params = new URLSearchParams();
    if (query.type) params.set("type", query.type);
    if (query.q) params.set("q", query.q);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.offset !== undefined) params.set("offset", String(query.offset));
    const search = params.size > 0 ? `?${params}` : "";
    return this.request("list memories", "GET", this.bank(bankId, `/memories/list${search}`), undefined, {
      ...options,
      idempotent: true,
    });
  }

  /** One memory unit of a bank (404 when the bank holds no unit with that id). */
  getMemory(bankId: string, memoryId: string, options?: RequestOptions): Promise<MemoryUnit> {
    return this.request(
      "get memory",
      "GET",
      this.bank(bankId, `/memories/${encodeURIComponent(memoryId)}`),
      undefined,
      { ...options, idempotent: true },
    );
  }

  /** Corrects a memory unit (`UpdateMemoryRequest`); Hindsight re-derives its observations (404 when unknown). */
  updateMemory(
    bankId: string,
    memoryId: string,
    body: UpdateMemoryRequest,
    options?: RequestOptions,
  ): Promise<unknown> {
    return this.request(
      "update memory",
      "PATCH",
      this.bank(bankId, `/memories/${encodeURIComponent(memoryId)}`),
      body,
      { ...options, idempotent: true },
    );
  }

  /** Deletes a document and every memory unit extracted from it (404 when unknown). */
  deleteDocument(
    bankId: string,
    documentId: string,
    options?: RequestOptions,
  ): Promise<DeleteDocumentResponse> {
    return this.request(
      "delete document",
      "DELETE",
      this.bank(bankId, `/documents/${encodeURIComponent(documentId)}`),
      undefined,
      { ...options, idempotent: true },
    );
  }

  private async request<T>(
    operation: string,
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    body: unknown,
    options: RequestOptions & { idempotent?: boolean } = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.props.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.props.apiKey) headers.authorization = `Bearer ${this.props.apiKey}`;
    const init: RequestInit = {
      method,
      headers,
      signal,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
    let response: Response;
    let text: string;
    try {
      try {
        response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
      } catch (error) {
        // A pooled keep-alive socket the server closed while idle fails before any response. Reads are
        // safe to send again; a retain is not (it could be stored twice), so it surfaces the error.
        if (!options.idempotent || signal.aborted || !isConnectionReset(error)) throw error;
        response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
      }
      text = await response.text();
    } catch (cause) {
      if (timeout.aborted) throw new HindsightRequestError(operation, { timeoutMs });
      throw new HindsightRequestError(operation, { cause });
    }
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch (cause) {
      throw new HindsightRequestError(operation, { cause });
    }
    if (!response.ok) {
      const detail = typeof json === "object" && json !== null && "detail" in json ? json.detail : text;
      throw new HindsightRequestError(operation, { status: response.status, detail });
    }
    return json as T;
  }
}

function isConnectionReset(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
