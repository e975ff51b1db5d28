import http from "node:http";
import type { AddressInfo } from "node:net";
import type { CompletedTurn, ProviderInitContext } from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import {
  migrateOpenVikingServer,
  type OpenVikingServerHandle,
  type StartOpenVikingServerProps,
  startOpenVikingServer,
} from "@engram/testkit/openviking-server";
import { afterEach, describe, expect, it } from "vitest";
import {
  OpenVikingMemoryProvider,
  type OpenVikingMemoryProviderProps,
} from "./openviking-memory-provider.js";

const ctx = (sessionId: string): ProviderInitContext => ({
  sessionId,
  platform: "cli",
  agentContext: "primary",
  extra: {},
});

const turn = (user: string, assistant = "Noted.", extra: Partial<CompletedTurn> = {}): CompletedTurn => ({
  user,
  assistant,
  timestamp: 1_700_000_000_000,
  ...extra,
});

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  return work.then(
    () => undefined,
    (error: unknown) => (error as { code?: string }).code,
  );
}

describe("OpenVikingMemoryProvider over HTTP", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const setup = async (
    serverProps: StartOpenVikingServerProps = {},
    providerProps: Partial<OpenVikingMemoryProviderProps> = {},
  ): Promise<{ server: OpenVikingServerHandle; provider: OpenVikingMemoryProvider }> => {
    const server = await startOpenVikingServer({ apiKey: "k", ...serverProps });
    cleanups.push(() => server.close());
    const provider = new OpenVikingMemoryProvider({
      baseUrl: server.url,
      apiKey: "k",
      timeoutMs: 5_000,
      ...providerProps,
    });
    cleanups.push(() => provider.shutdown());
    return { server, provider };
  };
  const paths = (server: OpenVikingServerHandle, method = "POST") =>
    server.requests.filter((r) => r.method === method).map((r) => r.path);

  it("mirrors a turn as one messages/batch request with text and tool parts", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("t-1"));
    await provider.syncTurn(
      turn("book a flight", "Booked.", {
        toolCalls: [{ id: "c1", name: "book", arguments: '{"to":"OSL"}' }],
      }),
      { sessionId: "t-1" },
    );
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/v1/sessions/t-1/messages/batch",
    ]);
    expect(server.requests[0]?.body).toEqual({
      messages: [
        { role: "user", parts: [{ type: "text", text: "book a flight" }] },
        {
          role: "assistant",
          parts: [
            {
              type: "tool",
              tool_id: "c1",
              tool_name: "book",
              tool_input: { to: "OSL" },
              tool_status: "completed",
            },
            { type: "text", text: "Booked." },
          ],
        },
      ],
    });
    expect(provider.syncMode).toBe("parts");
  });

  it("falls back to plain-text batches when parts are refused, then to single messages without a batch route", async () => {
    const textOnly = await setup({ without: { parts: true } });
    textOnly.provider.initialize(ctx("t-2"));
    await textOnly.provider.syncTurn(turn("hello there"), { sessionId: "t-2" });
    await textOnly.provider.syncTurn(turn("again"), { sessionId: "t-2" });
    expect(textOnly.provider.syncMode).toBe("text");
    expect(textOnly.server.requests.at(-1)?.body).toEqual({
      messages: [
        { role: "user", content: "again" },
        { role: "assistant", content: "Noted." },
      ],
    });

    const noBatch = await setup({ without: { batch: true } });
    noBatch.provider.initialize(ctx("t-3"));
    await noBatch.provider.syncTurn(turn("hello there"), { sessionId: "t-3" });
    expect(noBatch.provider.syncMode).toBe("single");
    expect(paths(noBatch.server).slice(-2)).toEqual([
      "/api/v1/sessions/t-3/messages",
      "/api/v1/sessions/t-3/messages",
    ]);
    const session = await noBatch.provider.client.get<{ message_count: number }>("/api/v1/sessions/t-3");
    expect(session.message_count).toBe(2);
  });

  it("commits at the session end only when turns were written, and only once per session id", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("t-4"));
    await provider.onSessionEnd([]);
    expect(paths(server)).toEqual([]);
    await provider.syncTurn(turn("I always use tabs."), { sessionId: "t-4" });
    await provider.onSessionEnd([]);
    await provider.onSessionEnd([]);
    expect(paths(server).filter((p) => p.endsWith("/commit"))).toEqual(["/api/v1/sessions/t-4/commit"]);
  });

  it("keeps turn order and commits once under racing syncs and session ends", async () => {
    for (let round = 0; round < 5; round++) {
      const { server, provider } = await setup();
      const id = `race-${round}`;
      provider.initialize(ctx(id));
      const calls: Promise<void>[] = [];
      // Fire everything at once, the way a busy host would, in a different interleaving each round.
      for (let i = 0; i < 12; i++) {
        calls.push(provider.syncTurn(turn(`turn ${i}`), { sessionId: id }));
        if (i % 4 === round % 4) calls.push(provider.onSessionEnd([]));
      }
      calls.push(provider.onSessionEnd([]), provider.onSessionEnd([]));
      await Promise.all(calls);
      const writes = server.requests.filter((r) => r.path.endsWith("/batch"));
      const users = writes.map(
        (r) => (r.body as { messages: { parts: { text: string }[] }[] }).messages[0]?.parts[0]?.text,
      );
      expect(users).toEqual(Array.from({ length: 12 }, (_, i) => `turn ${i}`));
      // Each end commits what was written before it; ends with nothing new in between commit nothing.
      const sequence = server.requests.map((r) => (r.path.endsWith("/commit") ? "C" : "W")).join("");
      expect(sequence).not.toMatch(/CC/);
      expect(sequence.endsWith("C")).toBe(true);
      const session = await provider.client.get<{ message_count: number }>(`/api/v1/sessions/${id}`);
      expect(session.message_count).toBe(0);
      await server.idle();
    }
  });

  it("on a session switch commits the old id in the background and writes later turns under the new id", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("old"));
    await provider.syncTurn(turn("I like cats."), { sessionId: "old" });
    provider.onSessionSwitch("new", { parentSessionId: "old", reset: true, rewound: false, reason: "reset" });
    expect(provider.sessionId).toBe("new");
    await provider.syncTurn(turn("I like dogs."), { sessionId: "new" });
    await provider.shutdown();
    expect(paths(server)).toEqual([
      "/api/v1/sessions/old/messages/batch",
      "/api/v1/sessions/old/commit",
      "/api/v1/sessions/new/messages/batch",
    ]);
    provider.onSessionSwitch("newer", {
      parentSessionId: "new",
      reset: false,
      rewound: false,
      reason: "resume",
    });
    await provider.shutdown();
    expect(paths(server).at(-1)).toBe("/api/v1/sessions/new/commit");
    // Switching away from a session with nothing pending commits nothing.
    provider.onSessionSwitch("newest", {
      parentSessionId: undefined,
      reset: false,
      rewound: false,
      reason: "resume",
    });
    await provider.shutdown();
    expect(paths(server)).toHaveLength(4);
  });

  it("mirrors builtin memory adds and replaces into the session (committed with it), never removals", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("mw-1"));
    await provider.onMemoryWrite("add", "user", "Prefers tabs over spaces.", {});
    await provider.onMemoryWrite("remove", "user", "Prefers tabs over spaces.", {});
    await provider.onMemoryWrite("replace", "memory", "Works in Oslo.", {});
    expect(paths(server)).toEqual([
      "/api/v1/sessions/mw-1/messages/batch",
      "/api/v1/sessions/mw-1/messages/batch",
    ]);
    expect(server.requests.map((r) => JSON.stringify(r.body))).toEqual([
      JSON.stringify({
        messages: [
          { role: "user", parts: [{ type: "text", text: "[memory add user] Prefers tabs over spaces." }] },
        ],
      }),
      JSON.stringify({
        messages: [
          { role: "user", parts: [{ type: "text", text: "[memory replace memory] Works in Oslo." }] },
        ],
      }),
    ]);
    await provider.onSessionEnd([]);
    expect(paths(server).at(-1)).toBe("/api/v1/sessions/mw-1/commit");
  });

  it("onPreCompress returns once every queued write has reached the server", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("pc-1"));
    const syncs = [1, 2, 3].map((i) => provider.syncTurn(turn(`turn ${i}`), { sessionId: "pc-1" }));
    expect(await provider.onPreCompress([])).toBe("");
    expect(paths(server)).toHaveLength(3);
    await Promise.all(syncs);
  });

  it("prefetch falls back to find when the server has no search route", async () => {
    const { server, provider } = await setup({ without: { search: true } });
    provider.initialize(ctx("t-5"));
    await provider.syncTurn(turn("I prefer window seats."), { sessionId: "t-5" });
    await provider.onSessionEnd([]);
    await server.idle();
    const recalled = await provider.prefetch("which seats do I prefer", { sessionId: "t-5" });
    expect(recalled).toContain("I prefer window seats.");
    expect(paths(server).slice(-2)).toEqual(["/api/v1/search/search", "/api/v1/search/find"]);
    expect(server.requests.at(-1)?.body).not.toHaveProperty("session_id");
  });

  it("serves a prefetch from the recall queuePrefetch started for the same query, and searches afresh otherwise", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("t-8"));
    await provider.syncTurn(turn("I prefer aisle seats."), { sessionId: "t-8" });
    await provider.onSessionEnd([]);
    await server.idle();
    const searches = () => paths(server).filter((p) => p.startsWith("/api/v1/search/")).length;
    provider.queuePrefetch("which seats do I prefer", { sessionId: "t-8" });
    expect(await provider.prefetch("which seats do I prefer", { sessionId: "t-8" })).toContain(
      "I prefer aisle seats.",
    );
    expect(searches()).toBe(1);
    // Consumed: the same query again searches again; a different queued query is not reused.
    await provider.prefetch("which seats do I prefer", { sessionId: "t-8" });
    expect(searches()).toBe(2);
    provider.queuePrefetch("something else entirely", { sessionId: "t-8" });
    expect(await provider.prefetch("which seats do I prefer", { sessionId: "t-8" })).toContain("aisle");
    expect(searches()).toBe(4);
  });

  it("offers viking tools that search, read, browse, remember and forget exact memory files", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("t-6"));
    expect(
      (await provider.handleToolCall("viking_remember", {
        content: "the deploy key lives in vault",
      })) as object,
    ).toMatchObject({
      status: "stored",
      session_id: "t-6",
    });
    await provider.onSessionEnd([]);
    await server.idle();
    const found = (await provider.handleToolCall("viking_search", { query: "deploy key vault" })) as {
      results: { uri: string; category: string; score: number; abstract: string }[];
    };
    expect(found.results).toHaveLength(1);
    const uri = found.results[0]?.uri ?? "";
    expect(found.results[0]?.abstract).toBe("Remember: the deploy key lives in vault");
    expect(await provider.handleToolCall("viking_read", { uri, level: "full" })).toEqual({
      uri,
      level: "full",
      content: "Remember: the deploy key lives in vault",
    });
    expect(await provider.handleToolCall("viking_read", { uri, level: "abstract" })).toMatchObject({
      level: "abstract",
    });
    const browsed = (await provider.handleToolCall("viking_browse", {})) as {
      entries: { name: string; isDir: boolean }[];
    };
    expect(browsed.entries).toEqual([expect.objectContaining({ isDir: true })]);
    const directory = uri.slice(0, uri.lastIndexOf("/"));
    expect(
      await codeOf(
        Promise.resolve().then(() => provider.handleToolCall("viking_forget", { uri: directory })),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(await provider.handleToolCall("viking_forget", { uri })).toEqual({ status: "deleted", uri });
    expect(await codeOf(provider.handleToolCall("viking_forget", { uri }))).toBe("NOT_FOUND");
    const after = (await provider.handleToolCall("viking_search", { query: "deploy key vault" })) as {
      results: unknown[];
    };
    expect(after.results).toEqual([]);
  });

  it("answers bad tool arguments and unknown tools with coded errors before any request", async () => {
    const { server, provider } = await setup();
    provider.initialize(ctx("t-7"));
    const call = (name: string, args: Record<string, never> | Record<string, string | number>) =>
      codeOf(Promise.resolve().then(() => provider.handleToolCall(name, args)));
    expect(await call("viking_search", { query: "  " })).toBe("INVALID_ARGUMENT");
    expect(await call("viking_search", { query: "x", limit: 0 })).toBe("INVALID_ARGUMENT");
    expect(await call("viking_search", { query: "x", bogus: 1 })).toBe("INVALID_ARGUMENT");
    expect(await call("viking_read", { uri: "viking://user/default/memories/a.md", level: "L9" })).toBe(
      "INVALID_ARGUMENT",
    );
    expect(await call("viking_read", { uri: "/etc/passwd" })).toBe("INVALID_ARGUMENT");
    expect(await call("viking_browse", { uri: "viking://user/../x" })).toBe("INVALID_ARGUMENT");
    expect(await call("viking_remember", {})).toBe("INVALID_ARGUMENT");
    expect(await call("viking_forget", { uri: "viking://user/default/memories/profile/.abstract.md" })).toBe(
      "INVALID_ARGUMENT",
    );
    expect(await call("viking_forget", { uri: "viking://resources/doc.md" })).toBe("INVALID_ARGUMENT");
    expect(await call("viking_nope", {})).toBe("TOOL_NOT_HANDLED");
    expect(server.requests).toEqual([]);
  });

  it("names every tool in its static system prompt block", () => {
    const block = new OpenVikingMemoryProvider({ baseUrl: "http://127.0.0.1:9" }).systemPromptBlock();
    for (const name of [
      "viking_search",
      "viking_read",
      "viking_browse",
      "viking_remember",
      "viking_forget",
    ]) {
      expect(block).toContain(name);
    }
  });

  it("is unavailable with an unusable base URL, without touching the network", () => {
    expect(new OpenVikingMemoryProvider({ baseUrl: "not a url" }).isAvailable()).toBe(false);
    expect(new OpenVikingMemoryProvider({ baseUrl: "http://127.0.0.1:9" }).isAvailable()).toBe(true);
  });

  it("bounds every hook by its timeout when the server hangs", async () => {
    // Accepts message writes, then never answers anything else.
    const server = http.createServer((req, res) => {
      if (req.url?.endsWith("/messages/batch")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "ok", result: { added: 2 } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const provider = new OpenVikingMemoryProvider({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 200,
      retries: 1,
      retryDelayMs: 10,
    });
    provider.initialize(ctx("h-1"));
    await provider.syncTurn(turn("I like tea."), { sessionId: "h-1" });
    const bound = 2_000;
    const timed = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      const code = await codeOf(Promise.resolve().then(work));
      expect(performance.now() - started).toBeLessThan(bound);
      return code;
    };
    expect(await timed(() => provider.onSessionEnd([]))).toBe("PROVIDER_TIMEOUT");
    expect(await timed(() => provider.prefetch("what do I like", { sessionId: "h-1" }))).toBe(
      "PROVIDER_TIMEOUT",
    );
    expect(
      await timed(() => provider.handleToolCall("viking_read", { uri: "viking://user/u/memories/a.md" })),
    ).toBe("PROVIDER_TIMEOUT");
    expect(
      await timed(() => provider.handleToolCall("viking_forget", { uri: "viking://user/u/memories/a.md" })),
    ).toBe("PROVIDER_TIMEOUT");
    // The failed commit left the session pending: the switch retries it in the background, bounded too.
    const switchStarted = performance.now();
    provider.onSessionSwitch("h-2", { parentSessionId: "h-1", reset: true, rewound: false, reason: "reset" });
    expect(performance.now() - switchStarted).toBeLessThan(50);
    expect(await timed(() => provider.shutdown())).toBeUndefined();
  });

  it("bounds syncTurn by its timeout when message writes hang, and a later turn still goes out", async () => {
    let hang = true;
    const server = http.createServer((_req, res) => {
      if (hang) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", result: { added: 2 } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const provider = new OpenVikingMemoryProvider({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 200,
    });
    provider.initialize(ctx("h-3"));
    const started = performance.now();
    expect(await codeOf(provider.syncTurn(turn("lost"), { sessionId: "h-3" }))).toBe("PROVIDER_TIMEOUT");
    expect(performance.now() - started).toBeLessThan(1_000);
    // A write that timed out is not retried (it may have been applied), and the queue is not wedged.
    hang = false;
    await provider.syncTurn(turn("kept"), { sessionId: "h-3" });
    expect(provider.syncMode).toBe("parts");
  });

  it("still commits at the end a session whose only write timed out, since it may have landed", async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? "");
      if (req.url?.endsWith("/commit")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "ok", result: { status: "accepted", task_id: "t" } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const provider = new OpenVikingMemoryProvider({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 200,
    });
    provider.initialize(ctx("h-4"));
    expect(await codeOf(provider.syncTurn(turn("I like jazz."), { sessionId: "h-4" }))).toBe(
      "PROVIDER_TIMEOUT",
    );
    await provider.onSessionEnd([]);
    expect(seen).toEqual(["/api/v1/sessions/h-4/messages/batch", "/api/v1/sessions/h-4/commit"]);
  });
});

describeEachBackend(
  "OpenViking provider end to end",
  (getDb) => {
    it("syncs turns, commits at the boundary, and recalls the extracted memories in the next session", async () => {
      const server = await startOpenVikingServer({ db: getDb() });
      try {
        const first = new OpenVikingMemoryProvider({ baseUrl: server.url });
        first.initialize(ctx("e2e-1"));
        await first.syncTurn(turn("My name is Ada.", "Hi Ada."), { sessionId: "e2e-1" });
        await first.syncTurn(turn("I prefer dark roast coffee in the morning.", "Noted."), {
          sessionId: "e2e-1",
        });
        await first.syncTurn(turn("What is the weather?", "Sunny."), { sessionId: "e2e-1" });
        await first.onSessionEnd([]);
        await first.shutdown();
        await server.idle();

        const second = new OpenVikingMemoryProvider({ baseUrl: server.url, recall: { scoreThreshold: 0.3 } });
        second.initialize(ctx("e2e-2"));
        const recalled = await second.prefetch("which coffee roast do I prefer", { sessionId: "e2e-2" });
        expect(recalled).toMatch(
          /^- \[preferences\] I prefer dark roast coffee in the morning\. \(viking:\/\/user\/default\/memories\/preferences\/mem_[0-9a-f]{12}\.md\)$/,
        );
        expect(recalled).not.toContain("weather");
        expect(await second.prefetch("no", { sessionId: "e2e-2" })).toBe("");
        const name = await second.prefetch("what is my name", { sessionId: "e2e-2" });
        expect(name).toContain("[profile] My name is Ada.");
        await second.shutdown();
      } finally {
        await server.close();
      }
    });
  },
  { setup: (db) => migrateOpenVikingServer(db).then(() => undefined) },
);
