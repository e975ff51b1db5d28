import { describe, expect, it } from "vitest";
import { healedSessionId, resolveCompressionTip } from "./compression-tip.js";
import { GATEWAY_END_REASONS, isRecoverableSession, RECOVERABLE_END_REASONS } from "./end-reasons.js";
import { sanitizeModelOverride } from "./model-override.js";

describe("resolveCompressionTip", () => {
  it("returns the session itself when it has no continuation", () => {
    expect(resolveCompressionTip("a", new Map())).toBe("a");
  });

  it("follows a chain of continuations to the newest", () => {
    expect(
      resolveCompressionTip(
        "a",
        new Map([
          ["a", "b"],
          ["b", "c"],
        ]),
      ),
    ).toBe("c");
    expect(resolveCompressionTip("b", (id) => ({ a: "b", b: "c" })[id])).toBe("c");
  });

  it("stops before a cycle instead of looping forever", () => {
    expect(
      resolveCompressionTip(
        "a",
        new Map([
          ["a", "b"],
          ["b", "c"],
          ["c", "a"],
        ]),
      ),
    ).toBe("c");
    expect(resolveCompressionTip("a", new Map([["a", "a"]]))).toBe("a");
  });

  it("stops after the hop limit", () => {
    expect(resolveCompressionTip("0", (id) => String(Number(id) + 1), 5)).toBe("5");
  });
});

describe("healedSessionId", () => {
  it("rewrites an entry still on the looked-up parent to its tip", () => {
    expect(healedSessionId({ currentId: "p", lookedUpId: "p", tipId: "c" })).toBe("c");
  });

  it.each([
    ["the entry moved on meanwhile", { currentId: "other", lookedUpId: "p", tipId: "c" }],
    ["the tip is the session itself", { currentId: "p", lookedUpId: "p", tipId: "p" }],
    ["nothing was looked up", { currentId: "p", lookedUpId: undefined, tipId: "c" }],
    ["the lookup found nothing", { currentId: "p", lookedUpId: "p", tipId: undefined }],
  ])("leaves the entry alone when %s", (_name, props) => {
    expect(healedSessionId(props)).toBeUndefined();
  });
});

describe("isRecoverableSession", () => {
  it("recovers open sessions and sessions ended only by gateway cleanup", () => {
    expect(RECOVERABLE_END_REASONS.has(GATEWAY_END_REASONS.agentClose)).toBe(true);
    expect(isRecoverableSession({})).toBe(true);
    expect(isRecoverableSession({ endedAt: null, endReason: null })).toBe(true);
    expect(isRecoverableSession({ endedAt: 1, endReason: "agent_close" })).toBe(true);
  });

  it.each([
    ["a reset", { endedAt: 1, endReason: "session_reset" }],
    ["a switch", { endedAt: 1, endReason: "session_switch" }],
    ["an unknown reason", { endedAt: 1, endReason: "compression" }],
    ["an end without a reason", { endedAt: 1 }],
  ])("does not recover a session ended by %s", (_name, row) => {
    expect(isRecoverableSession(row)).toBe(false);
  });
});

describe("sanitizeModelOverride", () => {
  it("keeps only model, provider and base URL, never credentials", () => {
    expect(
      sanitizeModelOverride({
        model: "m",
        provider: "p",
        base_url: "http://x",
        api_key: "sk-secret",
        apiMode: "chat",
      }),
    ).toEqual({ model: "m", provider: "p", baseUrl: "http://x" });
  });

  it("drops empty values and returns undefined when nothing remains", () => {
    expect(sanitizeModelOverride({ model: "", provider: null, api_key: "sk" })).toBeUndefined();
    expect(sanitizeModelOverride(null)).toBeUndefined();
    expect(sanitizeModelOverride(["model"])).toBeUndefined();
  });

  it("stringifies scalar values and ignores nested objects", () => {
    expect(sanitizeModelOverride({ model: 4, provider: { nested: true } })).toEqual({ model: "4" });
  });
});
