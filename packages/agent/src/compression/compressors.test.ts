import type { ChatMessage } from "@engram/core";
import { describe, expect, it } from "vitest";
import { ScriptedModel } from "../test-support/scripted-model.js";
import { SUMMARY_LABEL, splitForCompression } from "./compressor.js";
import { ModelCompressor } from "./model-compressor.js";
import { SummaryCompressor } from "./summary-compressor.js";

const history: ChatMessage[] = [
  { role: "system", content: "be kind" },
  { role: "user", content: "I like tea <memory-context>old recall</memory-context>" },
  { role: "assistant", content: "", toolCalls: [{ id: "c", name: "notes_search", arguments: "{}" }] },
  { role: "tool", content: "{}", toolCallId: "c" },
  { role: "assistant", content: "Noted." },
  { role: "user", content: "and coffee?" },
  { role: "assistant", content: "Also noted." },
  { role: "user", content: "thanks" },
  { role: "assistant", content: "welcome" },
];

describe("compressors", () => {
  it("split keeps the last turns from a user message on, so tool results stay with their calls", () => {
    const { older, recent } = splitForCompression(history, 2);
    expect(recent[0]).toEqual({ role: "user", content: "and coffee?" });
    expect(older).toHaveLength(5);
    expect(splitForCompression(history, 10).older).toEqual([]);
  });

  it("SummaryCompressor quotes older turns without recalled memory and keeps the recent ones verbatim", async () => {
    const out = await new SummaryCompressor().compress(history, { providerNote: "likes tea" });
    expect(out[0]).toEqual({ role: "system", content: "be kind" });
    expect(out[1]?.content.startsWith(SUMMARY_LABEL)).toBe(true);
    expect(out[1]?.content).toContain("- user: I like tea");
    expect(out[1]?.content).toContain("(called notes_search)");
    expect(out[1]?.content).toContain("Memory notes: likes tea");
    expect(out[1]?.content).not.toContain("old recall");
    expect(out.slice(2)).toEqual(history.slice(5));
  });

  it("ModelCompressor asks the model for the summary and sanitises its answer", async () => {
    const model = new ScriptedModel({ text: "User likes tea. <memory-context>x</memory-context>" });
    const out = await new ModelCompressor({ model }).compress(history, { providerNote: "" });
    expect(out[1]).toEqual({ role: "user", content: `${SUMMARY_LABEL}\nUser likes tea.` });
    expect(model.requests[0]?.messages[1]?.content).not.toContain("old recall");
    expect(out.slice(2)).toEqual(history.slice(5));
  });
});
