import { describe, expect, it } from "vitest";
import { isAtLeastVersion, MIN_APPEND_VERSION } from "./api-version.js";

describe("isAtLeastVersion", () => {
  it("compares major.minor.patch and treats unknown versions as old", () => {
    expect(isAtLeastVersion("0.5.0", MIN_APPEND_VERSION)).toBe(true);
    expect(isAtLeastVersion("v0.9.1", MIN_APPEND_VERSION)).toBe(true);
    expect(isAtLeastVersion("1.0", MIN_APPEND_VERSION)).toBe(true);
    expect(isAtLeastVersion("0.4.22", MIN_APPEND_VERSION)).toBe(false);
    expect(isAtLeastVersion("0.10.0", "0.9.9")).toBe(true);
    expect(isAtLeastVersion(undefined, MIN_APPEND_VERSION)).toBe(false);
    expect(isAtLeastVersion("dev", MIN_APPEND_VERSION)).toBe(false);
  });
});
