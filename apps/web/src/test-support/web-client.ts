/**
 * A browser-like HTTP client for tests: keeps cookies, echoes the CSRF cookie on state-changing
 * requests (like the UI), and reads Server-Sent Events.
 */

// biome-ignore lint/suspicious/noExplicitAny: tests read response JSON loosely and assert on its shape.
type LooseJson = any;
export class WebClient {
  readonly base: string;
  readonly cookies = new Map<string, string>();
  /** Send the CSRF header (a browser page of the app does; a foreign site cannot). */
  csrf = true;

  constructor(base: string) {
    this.base = base;
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: LooseJson }> {
    const response = await fetch(this.base + path, {
      method,
      headers: this.#headers(method, body),
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    this.#remember(response);
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  }

  /** GET /api/auth: obtains the CSRF cookie. */
  async init(): Promise<void> {
    await this.request("GET", "/api/auth");
  }

  /** Reads an SSE endpoint until `stopAt` returns true for an event, or the stream ends. */
  async events(
    path: string,
    stopAt: (event: { event: string; data: LooseJson }) => boolean,
    signal?: AbortSignal,
  ): Promise<{ event: string; data: LooseJson }[]> {
    const response = await fetch(this.base + path, {
      headers: this.#headers("GET"),
      ...(signal ? { signal } : {}),
    });
    if (!response.body) throw new Error(`no body from ${path}: ${response.status}`);
    const out: { event: string; data: LooseJson }[] = [];
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return out;
        buffered += decoder.decode(value, { stream: true });
        let split = buffered.indexOf("\n\n");
        while (split >= 0) {
          const block = buffered.slice(0, split);
          buffered = buffered.slice(split + 2);
          split = buffered.indexOf("\n\n");
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event || data === undefined) continue;
          const parsed = { event, data: JSON.parse(data) };
          out.push(parsed);
          if (stopAt(parsed)) return out;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  /** Starts a chat turn and reads its stream to the end. */
  async chat(
    sessionId: string,
    message: string,
  ): Promise<{ events: { event: string; data: LooseJson }[]; reply: string }> {
    const started = await this.request("POST", "/api/chat/start", { sessionId, message });
    if (started.status !== 202)
      throw new Error(`chat/start ${started.status}: ${JSON.stringify(started.json)}`);
    const events = await this.events(
      `/api/chat/stream?streamId=${started.json.streamId}`,
      (e) => e.event === "done" || e.event === "error",
    );
    const done = events.find((e) => e.event === "done");
    return { events, reply: done?.data.reply ?? "" };
  }

  #headers(method: string, body?: unknown): Record<string, string> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
    }
    const csrf = this.cookies.get("engram_csrf");
    if (this.csrf && method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
    return headers;
  }

  #remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, eq), decodeURIComponent(pair!.slice(eq + 1)));
    }
  }
}
