import { RecordingMemoryProvider } from "@engram/testkit";
import { type OpenAIServerHandle, startOpenAIServer } from "@engram/testkit/openai-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatModel } from "../model/create-chat-model.js";
import { OfflineModel } from "../model/offline-model.js";
import { OpenAICompatibleModel } from "../model/openai-compatible-model.js";
import { Agent } from "./agent.js";
import type { AgentEvent } from "./agent-types.js";

let server: OpenAIServerHandle;
beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server.close();
});

describe("Agent over an OpenAI-compatible server", () => {
  it("streams a turn with a provider tool call over HTTP and persists no recalled memory", async () => {
    const provider = new RecordingMemoryProvider({
      name: "notes",
      recall: "The user likes green tea.",
      tools: [{ name: "notes_search", description: "search notes", parameters: { type: "object" } }],
      onToolCall: () => ({ hits: ["green tea"] }),
    });
    const model = new OpenAICompatibleModel({ baseUrl: server.baseUrl, model: "m", maxRetries: 0, env: {} });
    const agent = new Agent({ sessionId: "web-1", model, providers: [provider] });
    await agent.initialize();
    server.script(
      {
        toolCalls: [{ id: "t1", name: "notes_search", arguments: '{"q":"drink"}' }],
        usage: { promptTokens: 50, completionTokens: 5 },
      },
      { text: "You like green tea.", usage: { promptTokens: 70, completionTokens: 6 } },
    );
    const events: AgentEvent[] = [];
    const result = await agent.runTurn("what do I drink?", [], { onEvent: (e) => events.push(e) });

    expect(result.completed).toBe(true);
    expect(result.reply).toBe("You like green tea.");
    expect(result.usage).toEqual({ promptTokens: 120, completionTokens: 11, totalTokens: 131 });
    expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(JSON.stringify(result.messages)).not.toContain("memory-context");
    const [first, second] = server.requests.slice(-2);
    const firstUser = ((first?.body.messages ?? []) as { role: string; content: string }[]).at(-1);
    expect(firstUser?.content).toContain("<memory-context>");
    const secondMessages = (second?.body.messages ?? []) as {
      role: string;
      content: string;
      tool_call_id?: string;
    }[];
    expect(secondMessages.at(-1)).toMatchObject({ role: "tool", tool_call_id: "t1" });
    expect(JSON.parse(secondMessages.at(-1)?.content ?? "")).toEqual({
      ok: true,
      provider: "notes",
      value: { hits: ["green tea"] },
    });
    expect(events.filter((e) => e.type === "tool_call")).toHaveLength(1);
  });

  it("does not sync a turn whose model call failed with HTTP 500", async () => {
    const provider = new RecordingMemoryProvider();
    const model = new OpenAICompatibleModel({ baseUrl: server.baseUrl, model: "m", maxRetries: 0, env: {} });
    const agent = new Agent({ sessionId: "web-2", model, providers: [provider] });
    server.script({ kind: "error", status: 500 });
    const result = await agent.runTurn("hi", []);
    await agent.memory.flushPending();
    expect(result).toMatchObject({
      completed: false,
      stopReason: "model_error",
      error: { code: "MODEL_FAILED" },
    });
    expect(provider.hooks()).not.toContain("syncTurn");
  });

  it("uses the offline model unless a model is configured", () => {
    expect(createChatModel({ env: {} })).toBeInstanceOf(OfflineModel);
    const configured = createChatModel({
      env: { ENGRAM_MODEL: "llama3", ENGRAM_MODEL_BASE_URL: server.baseUrl },
    });
    expect(configured).toBeInstanceOf(OpenAICompatibleModel);
    expect(configured.id).toBe(`llama3@${server.baseUrl}`);
  });
});
