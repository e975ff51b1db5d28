import { InvalidArgumentError } from "@engram/core";
import { OpenVikingError } from "./openviking-error.js";

export interface OpenVikingClientProps {
  /** Server base URL, e.g. `http://127.0.0.1:1933`. */
  readonly baseUrl: string;
  /** Sent as both `X-API-Key` and `Authorization: Bearer` (servers accept either). */
  readonly apiKey?: string;
  /** Per-attempt timeout in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Extra attempts after a retryable failure of a safe request (default 2). */
  readonly retries?: number;
  /** Delay before the first retry, doubled for each further one (default 100 ms). */
  readonly retryDelayMs?: number;
  /** Injected for tests; defaults to the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Overrides the client's per-attempt timeout. */
  readonly timeoutMs?: number;
  /**
   * Retry on network errors and 429/502/503/504. Defaults to true for GET and DELETE and false for
   * POST, because a write that timed out may have been applied.
   */
  readonly retry?: boolean;
  /** Aborts the call (and its retries) early. */
  readonly signal?: AbortSignal;
}

/** What `GET /health` revealed: `modern` servers identify themselves, `legacy` ones only say ok. */
export type OpenVikingHealth =
  | { readonly kind: "modern"; readonly healthy: boolean; readonly version: string | undefined }
  | { readonly kind: "legacy"; readonly healthy: true };

/**
 * A small OpenViking HTTP client: the `{status, result}` envelope unwrapped, the error envelope mapped
 * to a typed {@link OpenVikingError}, every attempt bounded by a timeout, safe requests retried with
 * exponential backoff a bounded number of times.
 */
export class OpenVikingClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #fetch: typeof fetch;

  constructor(props: OpenVikingClientProps) {
    let url: URL;
    try {
      url = new URL(props.baseUrl);
    } catch (cause) {
      throw Object.assign(
        new InvalidArgumentError("baseUrl", `${JSON.stringify(props.baseUrl)} is not a URL`),
        { cause },
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new InvalidArgumentError("baseUrl", `${JSON.stringify(props.baseUrl)} must be http(s)`);
    }
    this.baseUrl = props.baseUrl.replace(/\/+$/, "");
    this.#apiKey = props.apiKey || undefined;
    this.#timeoutMs = props.timeoutMs ?? 10_000;
    this.#retries = Math.max(0, Math.floor(props.retries ?? 2));
    this.#retryDelayMs = props.retryDelayMs ?? 100;
    this.#fetch = props.fetch ?? globalThis.fetch;
  }

  /** Probes `/health` (never authenticated); throws when the server is down or unhealthy. */
  async health(options: Pick<RequestOptions, "timeoutMs" | "signal"> = {}): Promise<OpenVikingHealth> {
    const body = await this.#send("GET", "/health", { ...options, retry: false }, false);
    if (typeof body !== "object" || body === null) {
      throw new OpenVikingError(
        { remoteCode: "UNRECOGNISED", httpStatus: 200, method: "GET", path: "/health" },
        "health answer is not JSON object",
      );
    }
    const record = body as Record<string, unknown>;
    if (typeof record.healthy === "boolean" || typeof record.version === "string") {
      return {
        kind: "modern",
        healthy: record.healthy !== false,
        version: typeof record.version === "string" ? record.version : undefined,
      };
    }
    if (record.status === "ok") return { kind: "legacy", healthy: true };
    throw new OpenVikingError(
      { remoteCode: "UNRECOGNISED", httpStatus: 200, method: "GET", path: "/health" },
      "health answer is not OpenViking's",
    );
  }

  get<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  post<T = unknown>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }

  delete<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("DELETE", path, options);
  }

  /** Sends one request and returns the envelope's `result`. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.#send(method, path, options, true)) as T;
  }

  async #send(method: string, path: string, options: RequestOptions, envelope: boolean): Promise<unknown> {
    const retry = options.retry ?? method !== "POST";
    const attempts = retry ? this.#retries + 1 : 1;
    let last: OpenVikingError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await delay(this.#retryDelayMs * 2 ** (attempt - 1), options.signal);
      try {
        return await this.#attempt(method, path, options, envelope);
      } catch (error) {
        if (!(error instanceof OpenVikingError) || !error.retryable || options.signal?.aborted) throw error;
        last = error;
      }
    }
    throw last;
  }

  async #attempt(method: string, path: string, options: RequestOptions, envelope: boolean): Promise<unknown> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (this.#apiKey) {
      headers["x-api-key"] = this.#apiKey;
      headers.authorization = `Bearer ${this.#apiKey}`;
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    const where = { method, path };
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        signal: AbortSignal.any(signals),
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      text = await response.text();
    } catch (cause) {
      const timedOut =
        cause instanceof Error && (cause.name === "TimeoutError" || signals[0]?.aborted === true);
      throw new OpenVikingError(
        { remoteCode: timedOut ? "TIMEOUT" : "NETWORK", httpStatus: undefined, ...where },
        timedOut
          ? `OpenViking ${method} ${path} did not answer within ${timeoutMs} ms`
          : `OpenViking ${method} ${path} failed: ${String(cause)}`,
        cause,
      );
    }
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    const record = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : undefined;
    const error = record?.error;
    if (!response.ok || record?.status === "error") {
      const remote = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
      const remoteCode = typeof remote.code === "string" ? remote.code : `HTTP_${response.status}`;
      const message =
        typeof remote.message === "string" ? remote.message : text.slice(0, 300) || `HTTP ${response.status}`;
      throw new OpenVikingError(
        { remoteCode, httpStatus: response.status, ...where },
        `OpenViking ${method} ${path} failed with ${remoteCode} (HTTP ${response.status}): ${message}`,
      );
    }
    if (!envelope) return data;
    if (!record || !("result" in record)) {
      throw new OpenVikingError(
        { remoteCode: "BAD_ENVELOPE", httpStatus: response.status, ...where },
        `OpenViking ${method} ${path} answered without a {status, result} envelope`,
      );
    }
    return record.result;
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
