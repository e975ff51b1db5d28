import { isEngramError, type JsonObject } from "@engram/core";
import { describe, expect, it } from "vitest";
import { InMemoryMemoryProvider } from "./in-memory-memory-provider.js";
import { InMemoryMemoryStore } from "./in-memory-memory-store.js";

const clock = { now: () => 1_000 };

function turn(user: string) {
  return { user, assistant: `ok: ${user}`, timestamp: 1 };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isEngramError(error) ? error.code : "uncoded";
  }
  return undefined;
}

describe("InMemoryMemoryProvider", () => {
  it("buffers synced turns per session and writes them under the session each was synced with", () => {
    const store = new InMemoryMemoryStore();
    const provider = new InMemoryMemoryProvider({ store, clock, flushEvery: 2 });
    provider.initialize({ sessionId: "a", platform: "cli", agentContext: "primary", extra: {} });
    provider.syncTurn(turn("first"), { sessionId: "a" });
    expect(store.size).toBe(0);
    provider.onSessionSwitch("b", {
      parentSessionId: "a",
      reset: true,
      rewound: false,
      reason: "new_session",
    });
    provider.syncTurn(turn("second"), { sessionId: "b" });
    provider.syncTurn(turn("third"), { sessionId: "b" });
    expect(store.entries().map((e) => [e.sessionId, e.text.split("\n")[0]])).toEqual([
      ["a", "User: first"],
      ["b", "User: second"],
      ["b", "User: third"],
    ]);
    expect(provider.sessionId).toBe("b");
    expect(provider.parentSessionId).toBe("a");
  });

  it("keeps the known parent on a bare switch", () => {
    const provider = new InMemoryMemoryProvider({ clock });
    provider.initialize({
      sessionId: "a",
      parentSessionId: "root",
      platform: "cli",
      agentContext: "primary",
      extra: {},
    });
    provider.onSessionSwitch("b", {
      parentSessionId: undefined,
      reset: false,
      rewound: false,
      reason: "resume",
    });
    expect(provider.parentSessionId).toBe("root");
  });

  it("recalls by keywords across sessions, never returning fence tags or unrelated entries", () => {
    const provider = new InMemoryMemoryProvider({ clock, flushEvery: 1 });
    provider.initialize({ sessionId: "a", platform: "cli", agentContext: "primary", extra: {} });
    provider.syncTurn(turn("the turnip harvest is in October"), { sessionId: "a" });
    provider.syncTurn(turn("<memory-context>old recall</memory-context>bicycles are blue"), {
      sessionId: "a",
    });
    expect(provider.prefetch("when is the turnip harvest?", { sessionId: "b" })).toContain("October");
    expect(provider.prefetch("bicycles", { sessionId: "b" })).not.toMatch(/memory-context|old recall/);
    expect(provider.prefetch("submarines", { sessionId: "b" })).toBe("");
  });

  it("extracts user messages once, however often the session ends", () => {
    const store = new InMemoryMemoryStore();
    const provider = new InMemoryMemoryProvider({ store, clock });
    provider.initialize({ sessionId: "a", platform: "cli", agentContext: "primary", extra: {} });
    const messages = [
      { role: "user" as const, content: "I like green tea" },
      { role: "assistant" as const, content: "Noted" },
    ];
    provider.onSessionEnd(messages);
    provider.onSessionEnd(messages);
    expect(store.entries({ kind: "fact" }).map((e) => e.text)).toEqual(["I like green tea"]);
  });

  it("adds and searches notes with its tools and rejects bad arguments with INVALID_ARGUMENT", () => {
    const provider = new InMemoryMemoryProvider({ clock });
    provider.initialize({ sessionId: "a", platform: "cli", agentContext: "primary", extra: {} });
    expect(
      provider.handleToolCall("memory_add", { content: "Deploys happen on Friday", tags: ["release"] }),
    ).toMatchObject({
      created: true,
      entry: { session_id: "a", kind: "note", tags: ["release"], created_at: 1_000 },
    });
    expect(provider.handleToolCall("memory_search", { query: "release friday" })).toMatchObject({
      results: [{ text: "Deploys happen on Friday" }],
    });
    expect(provider.onPreCompress([])).toBe("- Deploys happen on Friday");
    for (const [tool, args] of [
      ["memory_search", {}],
      ["memory_search", { query: "x", limit: 50 }],
      ["memory_search", { query: "x", extra: 1 }],
      ["memory_add", { content: "   " }],
      ["memory_add", { content: "x", tags: [1] }],
    ] as [string, JsonObject][]) {
      expect(codeOf(() => provider.handleToolCall(tool, args))).toBe("INVALID_ARGUMENT");
    }
    expect(codeOf(() => provider.handleToolCall("memory_forget", {}))).toBe("TOOL_NOT_HANDLED");
  });

  it("flushes on shutdown, ignores writes afterwards and can be shut down twice", () => {
    const store = new InMemoryMemoryStore();
    const provider = new InMemoryMemoryProvider({ store, clock });
    provider.initialize({ sessionId: "a", platform: "cli", agentContext: "primary", extra: {} });
    provider.syncTurn(turn("pending"), { sessionId: "a" });
    provider.shutdown();
    provider.shutdown();
    provider.syncTurn(turn("late"), { sessionId: "a" });
    expect(store.entries().map((e) => e.text.split("\n")[0])).toEqual(["User: pending"]);
    expect(codeOf(() => provider.handleToolCall("memory_add", { content: "late note" }))).toBe("CONFLICT");
  });
});
