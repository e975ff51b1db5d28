import { describe, expect, it } from "vitest";
import { isEngramError } from "../errors/engram-error.js";
import { ToolNotHandledError } from "./memory-errors.js";
import {
  MEMORY_PROVIDER_API_VERSION,
  MemoryProvider,
  NO_CAPABILITIES,
  type ProviderInitContext,
} from "./memory-provider.js";
import { isToolSchema, type ToolSchema } from "./types.js";

class MinimalProvider extends MemoryProvider {
  readonly name = "minimal";
  initialized: ProviderInitContext | undefined;
  isAvailable(): boolean {
    return true;
  }
  initialize(ctx: ProviderInitContext): void {
    this.initialized = ctx;
  }
  getToolSchemas(): ToolSchema[] {
    return [];
  }
}

const ctx = { sessionId: "s1" };

describe("MemoryProvider defaults", () => {
  it("declares API version 1 and no capabilities unless overridden", () => {
    const provider = new MinimalProvider();
    expect(MEMORY_PROVIDER_API_VERSION).toBe(1);
    expect(provider.apiVersion).toBe(MEMORY_PROVIDER_API_VERSION);
    expect(provider.capabilities).toEqual(NO_CAPABILITIES);
    expect(Object.values(provider.capabilities).every((v) => v === false)).toBe(true);
  });

  it("runs every optional hook as a no-op that returns empty text or nothing", async () => {
    const provider = new MinimalProvider();
    const messages = [{ role: "user" as const, content: "hi" }];
    expect(await provider.systemPromptBlock()).toBe("");
    expect(await provider.prefetch("q", ctx)).toBe("");
    expect(await provider.onPreCompress(messages)).toBe("");
    expect(await provider.queuePrefetch("q", ctx)).toBeUndefined();
    expect(await provider.syncTurn({ user: "u", assistant: "a", timestamp: 1 }, ctx)).toBeUndefined();
    expect(await provider.onTurnStart({ sessionId: "s1", turnNumber: 1, userMessage: "hi" })).toBeUndefined();
    expect(await provider.onSessionEnd(messages)).toBeUndefined();
    expect(
      await provider.onSessionSwitch("s2", {
        parentSessionId: "s1",
        reset: true,
        rewound: false,
        reason: "new_session",
      }),
    ).toBeUndefined();
    expect(await provider.onMemoryWrite("add", "memory", "fact", {})).toBeUndefined();
    expect(await provider.onDelegation("task", "result", ctx)).toBeUndefined();
    expect(await provider.shutdown()).toBeUndefined();
    // The hooks must not have touched provider state.
    expect(provider.initialized).toBeUndefined();
    expect(messages).toEqual([{ role: "user", content: "hi" }]);
  });

  it("throws a TOOL_NOT_HANDLED error naming provider and tool from the default handleToolCall", () => {
    const provider = new MinimalProvider();
    let thrown: unknown;
    try {
      provider.handleToolCall("recall", {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ToolNotHandledError);
    expect(isEngramError(thrown) && thrown.code).toBe("TOOL_NOT_HANDLED");
    expect(isEngramError(thrown) && thrown.details).toEqual({ provider: "minimal", tool: "recall" });
  });
});

describe("isToolSchema", () => {
  it("accepts an OpenAI-style function schema with object parameters", () => {
    expect(
      isToolSchema({ name: "fact_store", description: "d", parameters: { type: "object", properties: {} } }),
    ).toBe(true);
  });

  it.each([
    ["null", null],
    ["an array", []],
    ["a missing name", { description: "d", parameters: { type: "object" } }],
    ["an empty name", { name: "", description: "d", parameters: { type: "object" } }],
    ["a name with spaces", { name: "a b", description: "d", parameters: { type: "object" } }],
    ["a name over 64 chars", { name: "x".repeat(65), description: "d", parameters: { type: "object" } }],
    ["a missing description", { name: "t", parameters: { type: "object" } }],
    ["missing parameters", { name: "t", description: "d" }],
    ["non-object parameters", { name: "t", description: "d", parameters: { type: "string" } }],
  ])("rejects a schema with %s", (_label, value) => {
    expect(isToolSchema(value)).toBe(false);
  });
});
