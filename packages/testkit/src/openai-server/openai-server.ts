import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A tool call the stand-in model "makes". `arguments` is sent verbatim (may be invalid JSON on purpose). */
export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: string;
}

/** One scripted answer of the stand-in server, consumed in order by successive requests. */
export type ScriptedResponse =
  | {
      kind?: "reply";
      text?: string;
      toolCalls?: ScriptedToolCall[];
      usage?: { promptTokens: number; completionTokens: number };
      /** Non-streamed: wait this long before answering. Streamed: spread over the gaps between chunks. */
      delayMs?: number;
      /** How many characters per streamed text chunk. Default 4. */
      chunkSize?: number;
    }
  | { kind: "error"; status: 429 | 500 | 400 | 503; message?: string; delayMs?: number };

/** A request as the server received it, for assertions. */
export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  stream: boolean;
}

export interface OpenAIServerHandle {
  /** Base URL including `/v1`, ready for an OpenAI client's `baseURL`. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Appends answers to the script. When the script is empty the server answers "ok". */
  script(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function splitText(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

/**
 * Starts an OpenAI-compatible chat-completions server on 127.0.0.1 at a random port. It answers
 * `POST /v1/chat/completions` (JSON or SSE when `stream: true`) from a script, records every request,
 * and injects HTTP errors and delays where scripted. Tool-call arguments are streamed in several
 * deltas per call, the way real servers do, so clients must accumulate by `index`.
 */
export async function startOpenAIServer(): Promise<OpenAIServerHandle> {
  const script: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  let counter = 0;
  const sockets = new Set<import("node:net").Socket>();

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: "server_error" } });
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "not_found" } });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      sendJson(res, 400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
      return;
    }
    const stream = body.stream === true;
    requests.push({ path, headers: { ...req.headers }, body, stream });
    const next = script.shift() ?? { text: "ok" };
    if (next.kind === "error") {
      if (next.delayMs) await sleep(next.delayMs);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (next.status === 429) headers["retry-after-ms"] = "1";
      res.writeHead(next.status, headers);
      res.end(
        JSON.stringify({
          error: { message: next.message ?? `scripted ${next.status}`, type: "scripted_error" },
        }),
      );
      return;
    }
    const id = `chatcmpl-${++counter}`;
    const model = typeof body.model === "string" ? body.model : "stand-in";
    const created = Math.floor(Date.now() / 1000);
    const toolCalls = (next.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? `call_${counter}_${i}`,
      type: "function" as const,
      function: { name: call.name, arguments: call.arguments },
    }));
    const text = next.text ?? "";
    const usage = next.usage
      ? {
          prompt_tokens: next.usage.promptTokens,
          completion_tokens: next.usage.completionTokens,
          total_tokens: next.usage.promptTokens + next.usage.completionTokens,
        }
      : undefined;
    const finish = toolCalls.length > 0 ? "tool_calls" : "stop";

    if (!stream) {
      if (next.delayMs) await sleep(next.delayMs);
      sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: text === "" && toolCalls.length > 0 ? null : text,
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            },
            finish_reason: finish,
          },
        ],
        ...(usage ? { usage } : {}),
      });
      return;
    }

    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): string =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
    const pieces: string[] = [chunk({ role: "assistant", content: "" })];
    for (const part of splitText(text, next.chunkSize ?? 4)) pieces.push(chunk({ content: part }));
    toolCalls.forEach((call, index) => {
      pieces.push(
        chunk({
          tool_calls: [
            { index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } },
          ],
        }),
      );
      for (const part of splitText(call.function.arguments, 5)) {
        pieces.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
      }
    });
    pieces.push(chunk({}, finish));
    if (usage) {
      pieces.push(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`,
      );
    }
    pieces.push("data: [DONE]\n\n");
    const gap = next.delayMs ? Math.max(1, Math.floor(next.delayMs / pieces.length)) : 0;
    for (const piece of pieces) {
      if (res.destroyed) return;
      res.write(piece);
      if (gap > 0) await sleep(gap);
    }
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...responses) => {
      script.push(...responses);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
