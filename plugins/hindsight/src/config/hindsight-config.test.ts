import { isEngramError } from "@engram/core";
import { describe, expect, it } from "vitest";
import { assertBankIdTemplate, resolveBankId } from "./bank-id-template.js";
import { HINDSIGHT_CLOUD_URL, parseHindsightConfig } from "./hindsight-config.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isEngramError(error) ? error.code : `not an EngramError: ${String(error)}`;
  }
  return undefined;
}

describe("parseHindsightConfig", () => {
  it("fills defaults for an external server", () => {
    expect(parseHindsightConfig({ mode: "external", baseUrl: "http://127.0.0.1:9/" })).toEqual({
      mode: "external",
      baseUrl: "http://127.0.0.1:9",
      apiKey: undefined,
      bankId: "engram",
      budget: "mid",
      retainTags: [],
      retainEveryTurns: 1,
      recallTypes: ["observation"],
      recallMaxTokens: 4096,
      timeouts: { requestMs: 10_000, retainWaitMs: 5_000, shutdownMs: 5_000, pollIntervalMs: 100 },
    });
  });

  it("defaults to cloud mode, which needs an API key", () => {
    expect(codeOf(() => parseHindsightConfig({}))).toBe("INVALID_ARGUMENT");
    expect(parseHindsightConfig({ apiKey: "k" })).toMatchObject({
      mode: "cloud",
      baseUrl: HINDSIGHT_CLOUD_URL,
    });
  });

  it.each([
    ["an unknown key", { mode: "external", bankid: "x" }],
    ["an unknown mode", { mode: "local" }],
    ["a non-http URL", { mode: "external", baseUrl: "ftp://x" }],
    ["a bad budget", { mode: "external", budget: "huge" }],
    ["both bankId and bankIdTemplate", { mode: "external", bankId: "a", bankIdTemplate: "b" }],
    ["an unknown placeholder", { mode: "external", bankIdTemplate: "u-{email}" }],
    ["retainEveryTurns of 0", { mode: "external", retainEveryTurns: 0 }],
    ["a non-string tag", { mode: "external", retainTags: [3] }],
    ["an unknown timeout", { mode: "external", timeouts: { connectMs: 3 } }],
    ["a negative timeout", { mode: "external", timeouts: { requestMs: -1 } }],
  ])("rejects %s with INVALID_ARGUMENT", (_label, raw) => {
    expect(codeOf(() => parseHindsightConfig(raw))).toBe("INVALID_ARGUMENT");
  });
});

describe("bank id templates", () => {
  it("fills placeholders with path-safe values and 'default' for missing ones", () => {
    expect(
      resolveBankId("engram-{profile}-{platform}-{user}-{session}", {
        platform: "telegram",
        user: "a/../b c",
      }),
    ).toBe("engram-default-telegram-a-..-b-c-default");
    expect(() => assertBankIdTemplate("{user}-{session}")).not.toThrow();
    expect(resolveBankId("engram-{scope}", { scope: "telegram:user:42" })).toBe("engram-telegram-user-42");
    expect(() => assertBankIdTemplate("engram-{scope}")).not.toThrow();
  });
});
