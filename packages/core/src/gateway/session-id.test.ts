import { describe, expect, it } from "vitest";
import { isSafeId } from "./safe-id.js";
import { formatSessionId } from "./session-id.js";

describe("formatSessionId", () => {
  const now = Date.parse("2026-03-09T23:30:05Z");

  it("formats the creation time and the random suffix", () => {
    expect(formatSessionId(now, "ab12cd34")).toBe("20260309_233005_ab12cd34");
  });

  it("uses local time when given an offset", () => {
    expect(formatSessionId(now, "ab12cd34", 60)).toBe("20260310_003005_ab12cd34");
    expect(formatSessionId(now, "ab12cd34", () => -600)).toBe("20260309_133005_ab12cd34");
  });

  it("produces path-safe ids that sort by creation time", () => {
    const earlier = formatSessionId(now, "ffffffff");
    const later = formatSessionId(now + 1000, "00000000");
    expect(isSafeId(earlier)).toBe(true);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it.each([["ABCDEF12"], ["abc"], ["../../xx"], ["ab12cd345"]])("rejects the suffix %j", (suffix) => {
    expect(() => formatSessionId(now, suffix)).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("rejects a non-finite time", () => {
    expect(() => formatSessionId(Number.NaN, "ab12cd34")).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
