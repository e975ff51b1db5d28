import { EngramError, InvalidArgumentError } from "@engram/core";
import { describe, expect, it } from "vitest";
import { isRefusal, replyText } from "./failure-reply.js";

const turn = { sessionId: "s1", sessionKey: "k1" };

describe("replyText", () => {
  it("is the reply itself when the session was not reset", () => {
    expect(replyText({ ...turn, reply: "hello" })).toBe("hello");
  });

  it("puts the reset notice before the first reply of an auto-reset session that had a conversation", () => {
    const text = replyText({ ...turn, reply: "hello", autoReset: { reason: "idle", hadActivity: true } });
    expect(text).toMatch(/^Started a new session: .+\n\nhello$/s);
  });

  it("announces nothing when the expired session had no conversation, and posts nothing without a reply", () => {
    expect(replyText({ ...turn, reply: "hello", autoReset: { reason: "idle", hadActivity: false } })).toBe(
      "hello",
    );
    expect(replyText({ ...turn, reply: null, autoReset: { reason: "idle", hadActivity: true } })).toBeNull();
  });
});

describe("isRefusal", () => {
  it("is true for a 4xx the person can fix, false for our own failures and foreign errors", () => {
    expect(isRefusal(new InvalidArgumentError("text", "must not be empty"))).toBe(true);
    expect(isRefusal(new EngramError("STORE_FAILED", "down"))).toBe(false);
    expect(isRefusal(new Error("boom"))).toBe(false);
  });
});
