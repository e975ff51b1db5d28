import { describe, expect, it } from "vitest";
import { isEpochMs, MAX_EPOCH_MS } from "./epoch-ms.js";
import { findTextViolation, isStorableText, REPLACEMENT_CHARACTER, toStorableText } from "./storable-text.js";

describe("storable text", () => {
  it.each([
    "",
    "plain",
    "tabs\tand\nnewlines\r\n and \u001b escapes",
    "emoji \u{1f600} and a pair \ud83d\ude00",
    "\u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
  ])("accepts %j unchanged", (value) => {
    expect(findTextViolation(value)).toBeUndefined();
    expect(isStorableText(value)).toBe(true);
    expect(toStorableText(value)).toBe(value);
  });

  it.each([
    ["a NUL", "a\u0000b", "NUL character", `a${REPLACEMENT_CHARACTER}b`],
    ["a lone high surrogate", "a\ud800b", "unpaired surrogate", `a${REPLACEMENT_CHARACTER}b`],
    ["a lone low surrogate", "\udc00", "unpaired surrogate", REPLACEMENT_CHARACTER],
    ["a high surrogate at the end", "x\udbff", "unpaired surrogate", `x${REPLACEMENT_CHARACTER}`],
    [
      "swapped surrogates",
      "\ude00\ud83d",
      "unpaired surrogate",
      `${REPLACEMENT_CHARACTER}${REPLACEMENT_CHARACTER}`,
    ],
    [
      "NULs around a valid pair",
      "\u0000\ud83d\ude00\u0000",
      "NUL character",
      `${REPLACEMENT_CHARACTER}\ud83d\ude00${REPLACEMENT_CHARACTER}`,
    ],
  ])("finds %s and replaces each bad unit with U+FFFD, keeping the rest", (_name, value, rule, stored) => {
    expect(findTextViolation(value)).toBe(rule);
    expect(isStorableText(value)).toBe(false);
    expect(toStorableText(value)).toBe(stored);
    expect(isStorableText(toStorableText(value))).toBe(true);
    expect(Buffer.from(toStorableText(value)).toString()).toBe(toStorableText(value));
  });
});

describe("epoch ms", () => {
  it("accepts 1970 through the end of year 9999", () => {
    for (const value of [0, 1, Date.UTC(2026, 0, 1), 1_700_000_000_000.5, MAX_EPOCH_MS]) {
      expect(isEpochMs(value)).toBe(true);
    }
    expect(new Date(MAX_EPOCH_MS).toISOString()).toBe("9999-12-31T23:59:59.999Z");
  });

  it("refuses what no clock says: negative, past year 9999, beyond safe integers, not finite, not a number", () => {
    // 2 ** 53 + 1 as a JSON body spells it (9007199254740993): it parses to 2 ** 53.
    for (const value of [-1, MAX_EPOCH_MS + 1, 1e308, 2 ** 53, Number.NaN, Infinity, "1", null]) {
      expect(isEpochMs(value)).toBe(false);
    }
  });
});
