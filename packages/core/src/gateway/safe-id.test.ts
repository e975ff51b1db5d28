import { describe, expect, it } from "vitest";
import { InvalidIdError } from "../errors/index.js";
import { assertSafeId, assertSafeKeySegment, findIdViolation, isSafeId, MAX_ID_LENGTH } from "./safe-id.js";

describe("isSafeId / assertSafeId", () => {
  it.each([
    "20260310_120000_ab12cd34",
    "agent:main:telegram:dm:99",
    "agent:main:slack:channel:C1:1700000000.123456",
    "a".repeat(MAX_ID_LENGTH),
    "telegram:c:1",
    "chat-\u{1f600}",
  ])("accepts %s", (id) => {
    expect(isSafeId(id)).toBe(true);
    expect(() => assertSafeId("session id", id)).not.toThrow();
  });

  it.each([
    ["empty", "", "empty"],
    ["too long", "a".repeat(MAX_ID_LENGTH + 1), "too long"],
    ["parent traversal", "abc..def", "parent traversal (..)"],
    ["bare ..", "..", "parent traversal (..)"],
    ["a slash", "agent/main", "path separator"],
    ["a backslash", "agent\\main", "path separator"],
    ["a Windows drive letter", "C:evil", "drive letter prefix"],
    ["a lower-case drive letter", "d:", "drive letter prefix"],
    ["a NUL byte", "abc\u0000", "control character"],
    ["a newline", "abc\ndef", "control character"],
    ["DEL", "abc\u007f", "control character"],
    ["a lone high surrogate", "abc\ud800", "unpaired surrogate"],
    ["a lone low surrogate", "\udc00abc", "unpaired surrogate"],
    ["swapped surrogates", "\udc00\ud800", "unpaired surrogate"],
    ["a leading dot", ".hidden", "leading dot"],
    ["a number", 42, "not a string"],
    ["null", null, "not a string"],
  ])("rejects %s", (_name, value, rule) => {
    expect(findIdViolation(value)).toBe(rule);
    expect(isSafeId(value)).toBe(false);
    try {
      assertSafeId("session id", value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidIdError);
      expect((error as InvalidIdError).code).toBe("INVALID_ID");
      expect((error as InvalidIdError).details).toEqual({ kind: "session id", rule });
    }
  });

  it("honours a custom maximum length", () => {
    expect(isSafeId("abcd", { maxLength: 3 })).toBe(false);
    expect(isSafeId("abc", { maxLength: 3 })).toBe(true);
  });
});

describe("assertSafeKeySegment", () => {
  it("allows a platform prefix and a leading dot, which are harmless inside a key", () => {
    expect(() => assertSafeKeySegment("chat id", "c:12345")).not.toThrow();
    expect(() => assertSafeKeySegment("thread id", ".5")).not.toThrow();
  });

  it.each(["../x", "a/b", "a\\b", "a\u0000", "a\ud800", ""])("rejects %j", (value) => {
    expect(() => assertSafeKeySegment("chat id", value)).toThrowError(
      expect.objectContaining({ code: "INVALID_ID" }),
    );
  });
});
