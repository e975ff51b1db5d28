import { type OpenAIServerHandle, startOpenAIServer } from "@engram/testkit/openai-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatRequest, ChatStreamEvent } from "./chat-model.js";
import { OpenAICompatibleModel } from "./openai-compatible-model.js";

let server: OpenAIServerHandle;
beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const model = (props: { maxRetries?: number } = {}) =>
  new OpenAICompatibleModel({
    baseUrl: server.baseUrl,
    model: "stand-in-1",
    apiKey: "sk-test",
    maxRetries: props.maxRetries ?? 0,
    env: {},
  });

const request: ChatRequest = {
  messages: [
    { role: "system", content: "be brief" },
    { role: "user", content: "find tea" },
    { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "search", arguments: '{"q":"tea"}' }] },
    { role: "tool", content: '{"hits":1}', toolCallId: "c1", name: "search" },
    { role: "user", content: "and now?" },
  ],
  tools: [
    {
      name: "search",
      description: "search memory",
      parameters: { type: "object", properties: { q: { type: "string" } } },
    },
  ],
};

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe("OpenAICompatibleModel over HTTP", () => {
  it("sends messages, tools and the API key in the OpenAI wire format", async () => {
    server.script({ text: "hi" });
    await model().complete(request);
    const [sent] = server.requests;
    expect(sent?.headers.authorization).toBe("Bearer sk-test");
    expect(sent?.body.model).toBe("stand-in-1");
    expect(sent?.body.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "find tea" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "search", arguments: '{"q":"tea"}' } }],
      },
      { role: "tool", content: '{"hits":1}', tool_call_id: "c1" },
      { role: "user", content: "and now?" },
    ]);
    expect(sent?.body.tools).toEqual([
      {
        type: "function",
        function: {
          name: "search",
          description: "search memory",
          parameters: { type: "object", properties: { q: { type: "string" } } },
        },
      },
    ]);
  });

  it("returns text, tool calls and usage of a non-streamed answer", async () => {
    server.script({
      text: "checking",
      toolCalls: [{ id: "x", name: "search", arguments: '{"q":"tea"}' }],
      usage: { promptTokens: 12, completionTokens: 3 },
    });
    const completion = await model().complete(request);
    expect(completion).toEqual({
      text: "checking",
      toolCalls: [{ id: "x", name: "search", arguments: '{"q":"tea"}' }],
      usage: { promptTokens: 12, completionTokens: 3, totalTokens: 15 },
      finishReason: "tool_calls",
    });
  });

  it("streams text deltas and assembles tool calls split over many deltas", async () => {
    server.script({
      text: "Let me look that up.",
      toolCalls: [
        { id: "a", name: "search", arguments: '{"q":"green tea","limit":5}' },
        { id: "b", name: "recall", arguments: '{"topic":"drinks"}' },
      ],
      usage: { promptTokens: 30, completionTokens: 9 },
    });
    const events = await collect(model().stream(request));
    expect(server.requests[0]?.stream).toBe(true);
    expect(server.requests[0]?.body.stream_options).toEqual({ include_usage: true });
    const text = events.flatMap((e) => (e.type === "text" ? [e.delta] : []));
    expect(text.length).toBeGreaterThan(1);
    expect(text.join("")).toBe("Let me look that up.");
    expect(events.filter((e) => e.type === "tool_call").length).toBeGreaterThan(4);
    const done = events.at(-1);
    expect(done).toEqual({
      type: "done",
      completion: {
        text: "Let me look that up.",
        toolCalls: [
          { id: "a", name: "search", arguments: '{"q":"green tea","limit":5}' },
          { id: "b", name: "recall", arguments: '{"topic":"drinks"}' },
        ],
        usage: { promptTokens: 30, completionTokens: 9, totalTokens: 39 },
        finishReason: "tool_calls",
      },
    });
  });

  it("reports a server error as a coded ModelCallError with the HTTP status", async () => {
    server.script({ kind: "error", status: 500 });
    await expect(model().complete(request)).rejects.toMatchObject({
      name: "ModelCallError",
      code: "MODEL_FAILED",
      details: { status: 500 },
    });
    server.script({ kind: "error", status: 500 });
    await expect(collect(model().stream(request))).rejects.toMatchObject({
      code: "MODEL_FAILED",
      details: { status: 500 },
    });
  });

  it("retries a 429 and succeeds when the server recovers", async () => {
    server.script({ kind: "error", status: 429, delayMs: 5 }, { text: "after retry" });
    const completion = await model({ maxRetries: 1 }).complete(request);
    expect(completion.text).toBe("after retry");
    expect(server.requests).toHaveLength(2);
  });

  it("ends a slow stream with an AbortError when the signal aborts mid-stream", async () => {
    server.script({
      text: "a fairly long answer that streams slowly over many chunks",
      chunkSize: 2,
      delayMs: 2_000,
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const run = async () => {
      for await (const event of model().stream(request, { signal: controller.signal })) {
        if (event.type === "text") seen.push(event.delta);
        if (seen.length === 2) controller.abort();
      }
    };
    const started = Date.now();
    await expect(run()).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("reads base URL, model and key from the environment", async () => {
    server.script({ text: "from env" });
    const fromEnv = new OpenAICompatibleModel({
      env: { ENGRAM_MODEL_BASE_URL: server.baseUrl, ENGRAM_MODEL: "env-model", OPENAI_API_KEY: "sk-env" },
      maxRetries: 0,
    });
    expect(fromEnv.id).toBe(`env-model@${server.baseUrl}`);
    expect((await fromEnv.complete(request)).text).toBe("from env");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-env");
    expect(server.requests[0]?.body.model).toBe("env-model");
  });

  it("refuses to start without a model name", () => {
    expect(() => new OpenAICompatibleModel({ env: {} })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
  });
});
