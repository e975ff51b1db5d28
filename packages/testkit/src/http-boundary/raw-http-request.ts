import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface RawHttpRequest {
  readonly method: string;
  /** Sent exactly as given (`//api`, `/./x`, `/%61pi`): unlike `fetch`, nothing normalises it. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Longest wait for the response head, in ms (default 10000); past it the request fails. */
  readonly timeoutMs?: number;
}

export interface RawHttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as text; only the first chunk of an event stream, which is then closed. */
  readonly text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
  /** The response was a `text/event-stream` (closed by the client after its first chunk). */
  readonly stream: boolean;
}

/**
 * One HTTP/1.1 request over a fresh connection, with the request target as written. For tests of how a
 * server treats spellings of a path that `fetch` would normalise away, and of hostile input.
 *
 * @throws Error when the server does not answer within `timeoutMs` or the connection fails.
 */
export function rawHttpRequest(base: string, request: RawHttpRequest): Promise<RawHttpResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: {
          ...(request.body === undefined ? {} : { "content-length": Buffer.byteLength(request.body) }),
          ...request.headers,
        },
        agent: false,
      },
      (res) => {
        const stream = String(res.headers["content-type"] ?? "").startsWith("text/event-stream");
        const chunks: Buffer[] = [];
        const finish = () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text === "" ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, stream });
        };
        if (stream) {
          // An event stream may never end: its head and first chunk are the answer.
          res.once("data", (chunk: Buffer) => {
            chunks.push(chunk);
            res.destroy();
            finish();
          });
          res.once("end", finish);
          return;
        }
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", finish);
        res.on("error", reject);
      },
    );
    req.setTimeout(request.timeoutMs ?? 10_000, () => {
      req.destroy(
        new Error(`${request.method} ${request.path}: no answer within ${request.timeoutMs ?? 10_000} ms`),
      );
    });
    req.on("error", reject);
    req.end(request.body);
  });
}
