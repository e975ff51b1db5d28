import { type ChatMessage, MEMORY_CONTEXT_OPEN, MemoryCommitCoordinator, MemoryManager } from "@engram/core";
import { FakeClock, type RecordedCall, RecordingMemoryProvider } from "@engram/testkit";
import { describe, expect, it } from "vitest";
import { OfflineModel } from "../model/offline-model.js";
import { ScriptedModel } from "../test-support/scripted-model.js";
import { Agent, type AgentProps } from "./agent.js";
import type { AgentEvent, SessionRotation } from "./agent-types.js";

const searchTool = {
  name: "notes_search",
  description: "search notes",
  parameters: { type: "object" as const, properties: { q: { type: "string" } } },
};

async function setup(
  props: Partial<AgentProps> = {},
  providerProps: ConstructorParameters<typeof RecordingMemoryProvider>[0] = {},
) {
  const log: RecordedCall[] = [];
  const provider = new RecordingMemoryProvider({
    name: "notes",
    recall: "The user likes green tea.",
    tools: [searchTool],
    log,
    ...providerProps,
  });
  const agent = new Agent({ sessionId: "s1", providers: [provider], clock: new FakeClock(1_000), ...props });
  await agent.initialize();
  return { agent, provider, log };
}

const history: ChatMessage[] = [
  { role: "user", content: "first question" },
  { role: "assistant", content: "first answer" },
];

describe("Agent.runTurn", () => {
  it("calls the hooks in order: turn start, prefetch, then sync and queued prefetch after the reply", async () => {
    const { agent, provider } = await setup();
    await agent.runTurn("what do I drink?", history);
    await agent.memory.flushPending();
    expect(provider.hooks()).toEqual([
      "initialize",
      "onTurnStart",
      "prefetch",
      "systemPromptBlock",
      "syncTurn",
      "queuePrefetch",
    ]);
    expect(provider.callsOf("onTurnStart")[0]?.[0]).toEqual({
      sessionId: "s1",
      turnNumber: 2,
      userMessage: "what do I drink?",
    });
    expect(provider.callsOf("syncTurn")[0]).toEqual([
      {
        sessionId: "s1",
        user: "what do I drink?",
        assistant: expect.stringContaining("green tea"),
        timestamp: 1_000,
      },
      { sessionId: "s1" },
    ]);
  });

  it("shows recalled memory to the model but never returns it in messages to persist", async () => {
    const model = new ScriptedModel({ text: "You like green tea." });
    const { agent } = await setup({ model });
    const result = await agent.runTurn("what do I drink?", history);
    const sentUser = model.requests[0]?.messages.at(-1);
    expect(sentUser?.content).toContain(MEMORY_CONTEXT_OPEN);
    expect(sentUser?.content).toContain("The user likes green tea.");
    expect(result.messages).toEqual([
      { role: "user", content: "what do I drink?" },
      { role: "assistant", content: "You like green tea." },
    ]);
    expect(result.recalls).toEqual([{ provider: "notes", text: "The user likes green tea." }]);
    expect(JSON.stringify(agent.lastHistory)).not.toContain("memory-context");
  });

  it("answers with the offline model by default, quoting what memory recalled", async () => {
    const { agent } = await setup();
    const events: AgentEvent[] = [];
    const result = await agent.runTurn("what do I drink?", [], { onEvent: (e) => events.push(e) });
    expect(result.reply).toBe(
      "[offline model] You said: what do I drink? — From memory I recall: The user likes green tea.",
    );
    const deltas = events.flatMap((e) => (e.type === "text" ? [e.delta] : []));
    expect(deltas.join("")).toBe(result.reply);
    expect(events.map((e) => e.type).filter((t) => t !== "text")).toEqual([
      "turn_start",
      "memory_recall",
      "usage",
      "turn_end",
    ]);
  });

  it("strips a memory-context block the model echoes from events and persisted text", async () => {
    const model = new ScriptedModel({ text: "Sure. <memory-context>secret recall</memory-context>Done." });
    const { agent } = await setup({ model });
    const events: AgentEvent[] = [];
    const result = await agent.runTurn("hi", [], { onEvent: (e) => events.push(e) });
    expect(result.reply).toBe("Sure. Done.");
    expect(events.flatMap((e) => (e.type === "text" ? [e.delta] : [])).join("")).toBe("Sure. Done.");
  });

  it("routes tool calls to the owning provider and feeds results back to the model", async () => {
    const model = new ScriptedModel(
      {
        toolCalls: [
          { id: "c1", name: "notes_search", arguments: '{"q":"tea"}' },
          { id: "c2", name: "no_such_tool", arguments: "{}" },
          { id: "c3", name: "notes_search", arguments: "{not json" },
        ],
      },
      { text: "Found it." },
    );
    const { agent, provider } = await setup({ model });
    const result = await agent.runTurn("search tea", []);
    expect(provider.callsOf("handleToolCall")).toEqual([["notes_search", { q: "tea" }]]);
    const tools = result.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(m.content));
    expect(tools[0]).toEqual({
      ok: true,
      provider: "notes",
      value: { tool: "notes_search", args: { q: "tea" } },
    });
    expect(tools[1]).toMatchObject({ ok: false, error: { code: "TOOL_NOT_FOUND" } });
    expect(tools[2]).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENT" } });
    expect(model.requests[1]?.messages.filter((m) => m.role === "tool")).toHaveLength(3);
    expect(model.requests[0]?.tools?.map((t) => t.name)).toEqual(["notes_search"]);
    expect(result.reply).toBe("Found it.");
    expect(result.completed).toBe(true);
  });

  it("turns a provider's tool failure into a tool result and still completes the turn", async () => {
    const model = new ScriptedModel(
      { toolCalls: [{ id: "c1", name: "notes_search", arguments: "{}" }] },
      { text: "ok" },
    );
    const { agent } = await setup(
      { model },
      {
        onToolCall: () => {
          throw new Error("index offline");
        },
      },
    );
    const result = await agent.runTurn("search", []);
    expect(JSON.parse(result.messages[2]?.content ?? "")).toMatchObject({
      ok: false,
      error: { code: "PROVIDER_FAILED", provider: "notes" },
    });
    expect(result.completed).toBe(true);
  });

  it("bounds the tool loop and asks for a final answer without tools", async () => {
    const model = new ScriptedModel({
      text: "again",
      toolCalls: [{ id: "c", name: "notes_search", arguments: "{}" }],
    });
    const { agent, provider } = await setup({ model, maxToolIterations: 3 });
    const result = await agent.runTurn("loop", []);
    expect(model.requests).toHaveLength(4);
    expect(model.requests.map((r) => r.tools?.length ?? 0)).toEqual([1, 1, 1, 0]);
    expect(provider.callsOf("handleToolCall")).toHaveLength(3);
    expect(result.completed).toBe(true);
    expect(result.messages.at(-1)).toEqual({ role: "assistant", content: "again" });
  });

  it("never syncs a turn the model failed", async () => {
    const model = new ScriptedModel({ text: "partial ", fail: new Error("connection reset") });
    const { agent, provider } = await setup({ model });
    const result = await agent.runTurn("hello", []);
    await agent.memory.flushPending();
    expect(result).toMatchObject({ completed: false, stopReason: "model_error", reply: "" });
    expect(result.error?.message).toBe("connection reset");
    expect(result.messages).toEqual([
      { role: "user", content: "hello" },
      { role: "assistant", content: "partial " },
    ]);
    expect(provider.hooks()).not.toContain("syncTurn");
    expect(provider.hooks()).not.toContain("queuePrefetch");
  });

  it("stops mid-stream on abort and does not sync the interrupted turn", async () => {
    const { agent, provider } = await setup({ model: new OfflineModel() });
    const controller = new AbortController();
    let deltas = 0;
    const result = await agent.runTurn("tell me a long story please", [], {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "text" && ++deltas === 2) controller.abort();
      },
    });
    await agent.memory.flushPending();
    expect(result).toMatchObject({ completed: false, stopReason: "aborted" });
    expect(deltas).toBe(2);
    expect(provider.hooks()).not.toContain("syncTurn");
  });
});

describe("Agent per-turn system notes and model override", () => {
  it("shows system notes to this turn's model only, never in the returned messages or in memory", async () => {
    const model = new ScriptedModel({ text: "ok" });
    const { agent, provider } = await setup({ model });
    const note = "[System note: the previous session expired after 24 hours of inactivity.]";
    const result = await agent.runTurn("hello", [], { systemNotes: [note] });
    await agent.runTurn("again", result.messages);
    await agent.memory.flushPending();
    const systemOf = (i: number) =>
      model.requests[i]?.messages.find((m) => m.role === "system")?.content ?? "";
    expect(systemOf(0)).toContain(note);
    expect(systemOf(1)).not.toContain(note);
    expect(JSON.stringify(result.messages)).not.toContain("System note");
    expect(JSON.stringify(provider.callsOf("syncTurn"))).not.toContain("System note");
  });

  it("runs later turns on the model given to useModel, keeping the session and its memory", async () => {
    const first = new ScriptedModel({ text: "from first" });
    const second = new ScriptedModel({ text: "from second" });
    const { agent } = await setup({ model: first });
    expect((await agent.runTurn("one", [])).reply).toBe("from first");
    agent.useModel(second);
    expect(agent.model).toBe(second);
    const reply = await agent.runTurn("two", []);
    expect(reply.reply).toBe("from second");
    expect(reply.sessionId).toBe("s1");
    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(1);
  });
});

describe("Agent concurrency", () => {
  it("runs one turn at a time: a turn started while another runs is refused with STREAM_ACTIVE", async () => {
    const { agent, provider } = await setup();
    for (let round = 0; round < 20; round++) {
      const outcomes = await Promise.allSettled([
        agent.runTurn(`a${round}`, []),
        agent.runTurn(`b${round}`, []),
      ]);
      expect(outcomes[0]).toMatchObject({ status: "fulfilled", value: { completed: true } });
      expect(outcomes[1]).toMatchObject({ status: "rejected", reason: { code: "STREAM_ACTIVE" } });
    }
    await agent.memory.flushPending();
    expect(provider.callsOf("syncTurn").map((c) => (c[0] as { user: string }).user)).toEqual(
      Array.from({ length: 20 }, (_, i) => `a${i}`),
    );
  });
});

describe("Agent compression", () => {
  const longHistory: ChatMessage[] = Array.from({ length: 6 }, (_, i) => [
    { role: "user" as const, content: `question ${i} ${"x".repeat(200)}` },
    { role: "assistant" as const, content: `answer ${i} ${"y".repeat(200)}` },
  ]).flat();

  it("rotates to a child session when history exceeds the budget: pre-compress, commit, port, switch", async () => {
    const rotations: SessionRotation[] = [];
    const { agent, provider } = await setup(
      { tokenBudget: 300, createSessionId: () => "s2", onSessionRotated: (r) => void rotations.push(r) },
      { preCompressNote: "user likes tea" },
    );
    const result = await agent.runTurn("next question", longHistory);
    await agent.memory.flushPending();
    expect(provider.hooks()).toEqual([
      "initialize",
      "onPreCompress",
      "onSessionEnd",
      "onSessionSwitch",
      "onTurnStart",
      "prefetch",
      "systemPromptBlock",
      "syncTurn",
      "queuePrefetch",
    ]);
    expect(rotations).toHaveLength(1);
    expect(rotations[0]).toMatchObject({ parentSessionId: "s1", sessionId: "s2", endReason: "compression" });
    expect(provider.callsOf("onSessionSwitch")[0]).toEqual([
      "s2",
      { parentSessionId: "s1", reset: false, rewound: false, reason: "compression" },
    ]);
    expect(provider.callsOf("onSessionEnd")[0]?.[0]).toEqual(longHistory);
    expect(agent.sessionId).toBe("s2");
    expect(result.sessionId).toBe("s2");
    expect(result.rotation?.messages.length).toBeLessThan(longHistory.length);
    expect(result.rotation?.messages[0]?.content).toContain("user likes tea");
    expect(result.rotation?.messages.slice(-4)).toEqual(longHistory.slice(-4));
    expect(provider.callsOf("syncTurn")[0]?.[1]).toEqual({ sessionId: "s2" });
  });

  it("does not end the memory session when an over-budget history has nothing older to compress", async () => {
    const { agent, provider } = await setup({ tokenBudget: 10 });
    const result = await agent.runTurn("next", [
      { role: "user", content: "x".repeat(500) },
      { role: "assistant", content: "y".repeat(500) },
    ]);
    expect(result.rotation).toBeUndefined();
    expect(provider.hooks()).not.toContain("onPreCompress");
    expect(provider.hooks()).not.toContain("onSessionEnd");
  });

  it("stays in the session when the host refuses the rotation", async () => {
    const { agent, provider } = await setup({
      tokenBudget: 300,
      onSessionRotated: () => {
        throw new Error("store down");
      },
    });
    const result = await agent.runTurn("next", longHistory);
    expect(result.sessionId).toBe("s1");
    expect(result.rotation).toBeUndefined();
    expect(provider.hooks()).not.toContain("onSessionSwitch");
  });
});

describe("Agent session lifecycle", () => {
  it("commits the last history through a real MemoryCommitCoordinator", async () => {
    const { agent, provider } = await setup();
    const coordinator = new MemoryCommitCoordinator();
    coordinator.registerAgent("s1", agent);
    const result = await agent.runTurn("remember tea", history);
    await coordinator.markTurnCompleted("s1", { agent });
    expect(await coordinator.commitSessionMemory("s1", { wait: true })).toBe(true);
    expect(provider.callsOf("onSessionEnd")).toEqual([[[...history, ...result.messages]]]);
    expect(await coordinator.hasUncommittedWork("s1")).toBe(false);
  });

  it("reports a failed provider commit as MEMORY_COMMIT_FAILED so it is retried", async () => {
    const manager = new MemoryManager();
    const provider = new RecordingMemoryProvider();
    provider.onSessionEnd = () => {
      throw new Error("disk full");
    };
    manager.addProvider(provider);
    const agent = new Agent({ sessionId: "s1", memory: manager });
    await expect(agent.commitMemorySession([])).rejects.toMatchObject({ code: "MEMORY_COMMIT_FAILED" });
  });

  it("switches sessions with the previous one as parent and fans the reason out", async () => {
    const { agent, provider } = await setup();
    await agent.switchSession("s9", { reason: "new_session", reset: true });
    expect(agent.sessionId).toBe("s9");
    expect(provider.callsOf("onSessionSwitch")).toEqual([
      ["s9", { parentSessionId: "s1", reset: true, rewound: false, reason: "new_session" }],
    ]);
  });

  it("commits then shuts providers down on shutdownMemoryProvider", async () => {
    const { agent, provider } = await setup();
    await agent.runTurn("bye", []);
    const report = await agent.shutdownMemoryProvider();
    expect(report.drained).toBe(true);
    expect(provider.hooks().slice(-2)).toEqual(["onSessionEnd", "shutdown"]);
  });
});

describe("Agent session scope", () => {
  it("initialises providers with the host's context (user, memory scope) under its own session id", async () => {
    const { log } = await setup({
      initContext: { platform: "telegram", userId: "42", memoryScope: "telegram:user:42" },
    });
    const init = log.find((call) => call.hook === "initialize");
    expect(init?.args[1]).toMatchObject({
      sessionId: "s1",
      platform: "telegram",
      userId: "42",
      memoryScope: "telegram:user:42",
    });
  });

  it("runs onShutdown once, after the providers shut down, however often shutdown is called", async () => {
    const order: string[] = [];
    const { agent, log } = await setup({
      onShutdown: () => void order.push(`released after ${log.at(-1)?.hook}`),
    });
    const [first, second] = await Promise.all([agent.shutdown(), agent.shutdown()]);
    expect(first).toBe(second);
    expect(order).toEqual(["released after shutdown"]);
    await agent.shutdownMemoryProvider();
    expect(order).toHaveLength(1);
  });
});
