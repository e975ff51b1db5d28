import { describe, expect, it } from "vitest";
import { splitMessageText as splitAt } from "./split-message-text.js";

/** Telegram's cap, the case these tests were written for. */
const TELEGRAM_MAX_MESSAGE_LENGTH = 4096;
const splitMessageText = (text: string, maxLength = TELEGRAM_MAX_MESSAGE_LENGTH) => splitAt(text, maxLength);

/** No lone surrogate (String#isWellFormed is ES2024, past this project's lib). */
const wellFormed = (text: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe("splitting a reply into Telegram messages", () => {
  it("keeps a text within the limit whole, including one of exactly 4096 characters", () => {
    expect(splitMessageText("short")).toEqual(["short"]);
    const full = "x".repeat(TELEGRAM_MAX_MESSAGE_LENGTH);
    expect(splitMessageText(full)).toEqual([full]);
  });

  it("breaks at the last line break of each window, dropping it", () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${"y".repeat(20)}`);
    const text = lines.join("\n");
    const parts = splitMessageText(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_LENGTH);
    expect(parts.join("\n")).toBe(text);
    for (const part of parts) expect(part.startsWith("line ")).toBe(true);
  });

  it("falls back to spaces, then cuts hard without splitting a surrogate pair", () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(" ");
    const byWords = splitMessageText(words, 100);
    expect(byWords.join(" ")).toBe(words);
    for (const part of byWords) expect(part.length).toBeLessThanOrEqual(100);

    const emoji = "😀".repeat(3000);
    const parts = splitMessageText(emoji);
    expect(parts.join("")).toBe(emoji);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_LENGTH);
      expect(wellFormed(part)).toBe(true);
    }
    expect(wellFormed("\uD83D")).toBe(false);
    const odd = `a${"😀".repeat(10)}`;
    const small = splitMessageText(odd, 4);
    expect(small.join("")).toBe(odd);
    for (const part of small) expect(wellFormed(part)).toBe(true);
  });
});
