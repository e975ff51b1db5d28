import { describe, expect, it } from "vitest";
import { parseHolographicConfig } from "./holographic-config.js";

describe("parseHolographicConfig", () => {
  it("accepts an empty or missing config", () => {
    expect(parseHolographicConfig(undefined)).toEqual({});
    expect(parseHolographicConfig({})).toEqual({});
  });

  it("keeps valid values", () => {
    expect(parseHolographicConfig({ memory: true, dim: 256, autoExtract: true, minTrust: 0.4 })).toEqual({
      memory: true,
      dim: 256,
      autoExtract: true,
      minTrust: 0.4,
    });
  });

  it("rejects unknown keys and bad values with INVALID_ARGUMENT", () => {
    for (const bad of [
      [],
      "x",
      { dimm: 3 },
      { dim: 10.5 },
      { dim: 4 },
      { minTrust: 2 },
      { memory: "yes" },
      { schema: "" },
    ]) {
      expect(() => parseHolographicConfig(bad)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
  });

  it("keeps a memory scope and rejects an unsafe one with INVALID_ID", () => {
    expect(parseHolographicConfig({ scope: "team:alpha" })).toEqual({ scope: "team:alpha" });
    for (const scope of ["", "../x", "a/b", 7]) {
      expect(() => parseHolographicConfig({ scope })).toThrow(
        expect.objectContaining({ code: "INVALID_ID" }),
      );
    }
  });
});
