import { describe, expect, it } from "vitest";
import { parseOpenVikingConfig } from "./openviking-config.js";

describe("parseOpenVikingConfig", () => {
  it("keeps valid values", () => {
    expect(
      parseOpenVikingConfig({
        baseUrl: "http://127.0.0.1:1933",
        apiKey: "k",
        timeoutMs: 500,
        recallScoreThreshold: 0.3,
      }),
    ).toEqual({
      baseUrl: "http://127.0.0.1:1933",
      apiKey: "k",
      timeoutMs: 500,
      recallScoreThreshold: 0.3,
    });
  });

  it("rejects missing or bad base URLs, unknown keys and out-of-range numbers with INVALID_ARGUMENT", () => {
    for (const bad of [
      undefined,
      [],
      {},
      { baseUrl: "ftp://x" },
      { baseUrl: "http://x", endpoint: "http://y" },
      { baseUrl: "http://x", apiKey: "" },
      { baseUrl: "http://x", timeoutMs: 0 },
      { baseUrl: "http://x", retries: 1.5 },
      { baseUrl: "http://x", recallScoreThreshold: 2 },
    ]) {
      expect(() => parseOpenVikingConfig(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
  });
});
