import { describe, expect, it } from "vitest";
import type { EngramError } from "../errors/index.js";
import { InMemoryRoutingIndex } from "./in-memory-routing-index.js";
import { buildRoutingEntry, normalizeRoutingFields, switchedRoutingEntry } from "./routing-index.js";

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as EngramError).code;
  }
};

describe("normalizeRoutingFields", () => {
  it("keeps only the fields present, so a patch stays partial", () => {
    expect(normalizeRoutingFields({ suspended: true })).toEqual({ suspended: true });
    expect(normalizeRoutingFields({})).toEqual({});
  });

  it("strips credentials from a model override and maps base_url", () => {
    const fields = normalizeRoutingFields({
      modelOverride: { model: "m", provider: "p", base_url: "http://x", api_key: "sk-secret", apiKey: "k" },
    });
    expect(fields.modelOverride).toEqual({ model: "m", provider: "p", baseUrl: "http://x" });
    expect(JSON.stringify(fields)).not.toContain("secret");
  });

  it("turns an override with nothing persistable into null (clearing it)", () => {
    expect(normalizeRoutingFields({ modelOverride: { apiKey: "k" } }).modelOverride).toBeNull();
    expect(normalizeRoutingFields({ modelOverride: null }).modelOverride).toBeNull();
  });

  it("rejects negative token counts and non-boolean flags", () => {
    expect(codeOf(() => normalizeRoutingFields({ lastPromptTokens: -1 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => normalizeRoutingFields({ suspended: "yes" as unknown as boolean }))).toBe(
      "INVALID_ARGUMENT",
    );
  });
});

describe("buildRoutingEntry", () => {
  it("fills defaults from the origin and the clock", () => {
    const entry = buildRoutingEntry(
      {
        sessionKey: "agent:main:telegram:dm:42",
        sessionId: "s1",
        origin: { platform: "telegram", chatId: "42", chatType: "dm", chatName: "Ann" },
      },
      1000,
    );
    expect(entry).toMatchObject({
      createdAt: 1000,
      updatedAt: 1000,
      platform: "telegram",
      chatType: "dm",
      displayName: "Ann",
      suspended: false,
      modelOverride: null,
    });
  });

  it("rejects path-unsafe keys and ids", () => {
    expect(codeOf(() => buildRoutingEntry({ sessionKey: "../etc", sessionId: "s" }, 0))).toBe("INVALID_ID");
    expect(codeOf(() => buildRoutingEntry({ sessionKey: "k", sessionId: "a/b" }, 0))).toBe("INVALID_ID");
  });

  it("a switch resets every flag but keeps the key's identity", () => {
    const before = buildRoutingEntry(
      {
        sessionKey: "k",
        sessionId: "s1",
        origin: { platform: "slack", chatId: "c", chatType: "group" },
        suspended: true,
        resumePending: true,
        modelOverride: { model: "m" },
        displayName: "room",
      },
      1,
    );
    const after = switchedRoutingEntry(before, "s2", { isFreshReset: true }, 5);
    expect(after).toMatchObject({
      sessionId: "s2",
      platform: "slack",
      chatType: "group",
      displayName: "room",
      suspended: false,
      resumePending: false,
      modelOverride: null,
      isFreshReset: true,
      createdAt: 5,
      updatedAt: 5,
    });
  });
});

describe("InMemoryRoutingIndex", () => {
  it("hands out frozen entries, so a caller cannot change the index behind its back", async () => {
    const index = new InMemoryRoutingIndex({ clock: { now: () => 1 } });
    const entry = await index.put({ sessionKey: "k", sessionId: "s1", modelOverride: { model: "m" } });
    expect(() => {
      (entry as { sessionId: string }).sessionId = "hijacked";
    }).toThrow(TypeError);
    expect(Object.isFrozen(entry.modelOverride)).toBe(true);
    const patched = await index.patch("k", { suspended: true });
    expect(Object.isFrozen(patched)).toBe(true);
    expect((await index.get("k"))?.sessionId).toBe("s1");
  });
});
