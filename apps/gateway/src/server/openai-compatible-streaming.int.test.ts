/**
 * True token streaming and `usage` of the OpenAI-compatible API (issue 19), through the official
 * `openai` client against the real gateway whose agent talks to the testkit's stand-in model server
 * on loopback, on PGlite and Postgres. The stand-in streams its reply in small pieces with pauses, so
 * a client that sees several deltas before the turn is saved proves the deltas were forwarded as the
 * model produced them (the answer used to be sent only after the turn completed).
 */

import { OpenAICompatibleModel } from "@engram/agent";
import { createDefaultHost, type EngramHost } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import { type OpenAIServerHandle, startOpenAIServer } from "@engram/testkit/openai-server";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";

const TOKEN = "test-token-0123456789";
const STORY = "Waves roll in, gulls cry overhead, and the old ships creak at anchor in the grey harbour.";

describeEachBackend("OpenAI-compatible API streams the model's tokens as they come", (db) => {
  let model: OpenAIServerHandle;
  let host: EngramHost;
  let gateway: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    model = await startOpenAIServer();
    host = createDefaultHost({
      db: db(),
      model: new OpenAICompatibleModel({ model: "stand-in", baseUrl: model.baseUrl, apiKey: "x", env: {} }),
    });
    const config = parseGatewayConfig({ token: TOKEN, expirySweepIntervalMs: 0 });
    gateway = createGateway({ config, db: db(), host });
    const base = (await gateway.listen({ host: "127.0.0.1", port: 0 })).address;
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: TOKEN, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close({ drainDeadlineMs: 5000 });
    await host?.close();
    await model?.close();
  });

  const transcriptOf = async (name: string) => {
    const entry = await gateway.routingIndex.get(`agent:main:openai:dm:${name}`);
    return entry
      ? (await gateway.transcripts.getMessages(entry.sessionId)).map((m) => [m.role, m.content])
      : [];
  };

  it("sends several content deltas before the turn completes, and the usage the model reported", async () => {
    // ~24 pieces over ~2.4 s: the turn is far from over when the first pieces are out.
    model.script({
      text: STORY,
      chunkSize: 4,
      delayMs: 2400,
      usage: { promptTokens: 42, completionTokens: 23 },
    });
    const stream = await client.chat.completions.create({
      model: "engram",
      user: "sailor",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Tell me about the sea" }],
    });
    const deltas: string[] = [];
    const arrivals: number[] = [];
    let transcriptAtSecondDelta: unknown[] | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const content = chunk.choices[0]?.delta.content;
      if (!content) continue;
      deltas.push(content);
      arrivals.push(Date.now());
      // The user's message is stored before the model runs; the reply is not saved yet.
      if (deltas.length === 2) transcriptAtSecondDelta = await transcriptOf("sailor");
    }
    expect(deltas.join("")).toBe(STORY);
    expect(deltas.length).toBeGreaterThanOrEqual(10);
    expect(transcriptAtSecondDelta).toEqual([["user", "Tell me about the sea"]]);
    // Spread over the model's pauses, not sent in one burst at the end.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(1000);
    expect(usage).toEqual({ prompt_tokens: 42, completion_tokens: 23, total_tokens: 65 });
    expect(await transcriptOf("sailor")).toEqual([
      ["user", "Tell me about the sea"],
      ["assistant", STORY],
    ]);
  });

  it("streams the text of every model call of a tool round and sums their usage", async () => {
    model.script(
      {
        text: "Let me look. ",
        toolCalls: [{ name: "no_such_tool", arguments: "{}" }],
        usage: { promptTokens: 10, completionTokens: 4 },
      },
      { text: "Found nothing.", usage: { promptTokens: 20, completionTokens: 3 } },
    );
    const stream = await client.chat.completions.create({
      model: "engram",
      user: "toolsmith",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Look it up" }],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    // As OpenAI's API would show it; the stored reply is the final text.
    expect(text).toBe("Let me look. Found nothing.");
    expect(usage).toEqual({ prompt_tokens: 30, completion_tokens: 7, total_tokens: 37 });
    expect((await transcriptOf("toolsmith")).at(-1)).toEqual(["assistant", "Found nothing."]);
  });

  it("reports usage in a non-streamed answer: the model's, else an estimate for a repeat", async () => {
    model.script({ text: "Calm today.", usage: { promptTokens: 30, completionTokens: 3 } });
    const request = {
      model: "engram",
      user: "counter",
      messages: [{ role: "user" as const, content: "How is the sea today?" }],
    };
    const first = await client.chat.completions.create(request);
    expect(first.choices[0]!.message.content).toBe("Calm today.");
    expect(first.usage).toEqual({ prompt_tokens: 30, completion_tokens: 3, total_tokens: 33 });
    const requestsBefore = model.requests.length;
    // A repeat runs no model: one token per 4 characters of the user text and the reply.
    const repeat = await client.chat.completions.create(request);
    expect(model.requests.length).toBe(requestsBefore);
    expect(repeat.choices[0]!.message.content).toBe("Calm today.");
    expect(repeat.usage).toEqual({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
    // Streamed repeat: the stored reply whole, and the estimate when asked for.
    const chunks = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of chunks) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Calm today.");
    expect(usage).toEqual({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
    expect(model.requests.length).toBe(requestsBefore);
  });

  it("finishes and saves a streamed turn whose client left after the first deltas; its retry runs nothing", async () => {
    model.script({ text: STORY, chunkSize: 4, delayMs: 1500 });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Are you still there?" }];
    const abort = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "engram", user: "leaver", messages, stream: true },
      { signal: abort.signal },
    );
    let received = "";
    await (async () => {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ?? "";
        if (received.length > 0) abort.abort();
      }
    })().catch(() => undefined);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(STORY.length);
    const until = Date.now() + 10_000;
    while ((await transcriptOf("leaver")).length < 2 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await transcriptOf("leaver")).toEqual([
      ["user", "Are you still there?"],
      ["assistant", STORY],
    ]);
    const requestsBefore = model.requests.length;
    const retry = await client.chat.completions.create({ model: "engram", user: "leaver", messages });
    expect(retry.choices[0]!.message.content).toBe(STORY);
    expect(model.requests.length).toBe(requestsBefore);
  });
});
