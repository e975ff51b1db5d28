import type { TranscriptMessage } from "@engram/core";
import { describe, expect, it } from "vitest";
import { RecentTranscripts } from "./recent-transcripts.js";

const message = (id: number, content: string): TranscriptMessage => ({
  id,
  sessionId: "s",
  role: "user",
  content,
  parts: null,
  toolName: null,
  toolCalls: null,
  toolResults: null,
  toolCallId: null,
  reasoning: null,
  reasoningDetails: null,
  platformMessageId: null,
  observed: false,
  active: true,
  compacted: false,
  createdAt: 1,
});

describe("RecentTranscripts", () => {
  it("serves a held transcript only while the session's stamp is unchanged", () => {
    const cache = new RecentTranscripts(4);
    cache.set("s", { messageCount: 2, updatedAt: 100 }, [message(1, "a"), message(2, "b")]);
    expect(cache.get("s", { messageCount: 2, updatedAt: 100 })?.map((m) => m.content)).toEqual(["a", "b"]);
    // Another writer appended (count) or rewound and appended again (same count, later time).
    expect(cache.get("s", { messageCount: 3, updatedAt: 100 })).toBeUndefined();
    cache.set("s", { messageCount: 2, updatedAt: 100 }, [message(1, "a"), message(2, "b")]);
    expect(cache.get("s", { messageCount: 2, updatedAt: 101 })).toBeUndefined();
    expect(cache.get("s", { messageCount: 2, updatedAt: 100 })).toBeUndefined();
    expect(cache.get("s", undefined)).toBeUndefined();
  });

  it("hands out copies, and forgets the least recently used sessions beyond its cap", () => {
    const cache = new RecentTranscripts(2);
    const stamp = { messageCount: 1, updatedAt: 1 };
    cache.set("a", stamp, [message(1, "a")]);
    cache.set("b", stamp, [message(2, "b")]);
    cache.get("a", stamp)?.push(message(9, "mutated"));
    cache.set("c", stamp, [message(3, "c")]);
    expect(cache.size).toBe(2);
    expect(cache.get("b", stamp)).toBeUndefined();
    expect(cache.get("a", stamp)?.map((m) => m.content)).toEqual(["a"]);
  });
});
