import { MemoryManager } from "@engram/core";
import { describe, expect, it } from "vitest";
import { type RecordedCall, RecordingMemoryProvider } from "./recording-memory-provider.js";

describe("RecordingMemoryProvider", () => {
  it("records hooks of several providers in one shared log, in call order, with copied arguments", async () => {
    const log: RecordedCall[] = [];
    const a = new RecordingMemoryProvider({ name: "a", recall: "A knows", log });
    const b = new RecordingMemoryProvider({ name: "b", log });
    const manager = new MemoryManager();
    manager.addProvider(a);
    manager.addProvider(b);
    const messages = [{ role: "user" as const, content: "hi" }];
    await manager.prefetchAll("q", { sessionId: "s" });
    await manager.onSessionEnd(messages);
    const [first] = messages;
    if (first) first.content = "changed later";
    expect(log.map((c) => `${c.args[0]}.${c.hook}`)).toEqual([
      "a.prefetch",
      "b.prefetch",
      "a.onSessionEnd",
      "b.onSessionEnd",
    ]);
    expect(a.callsOf("onSessionEnd")).toEqual([[[{ role: "user", content: "hi" }]]]);
    expect(b.hooks()).toEqual(["prefetch", "onSessionEnd"]);
  });

  it("answers tool calls through the given handler and surfaces its failure to the manager", async () => {
    const provider = new RecordingMemoryProvider({
      tools: [{ name: "rec_tool", description: "d", parameters: { type: "object" } }],
      onToolCall: (_name, args) => {
        if (args.fail) throw new Error("boom");
        return { ok: 1 };
      },
    });
    const manager = new MemoryManager();
    manager.addProvider(provider);
    expect(await manager.handleToolCall("rec_tool", {})).toEqual({
      ok: true,
      provider: "recording",
      value: { ok: 1 },
    });
    expect(await manager.handleToolCall("rec_tool", { fail: true })).toMatchObject({
      ok: false,
      error: { code: "PROVIDER_FAILED" },
    });
  });
});
