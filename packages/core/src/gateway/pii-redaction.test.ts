import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashChatId, hashId, hashSenderId, PII_SAFE_PLATFORMS } from "./pii-redaction.js";

const reference = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

describe("PII hashes", () => {
  it("treats Discord as unsafe to redact because mentions need raw ids", () => {
    expect(PII_SAFE_PLATFORMS.has("discord")).toBe(false);
    expect(PII_SAFE_PLATFORMS.has("telegram")).toBe(true);
  });

  it("hashes an id to the first 12 hex digits of its SHA-256", () => {
    expect(hashId("12345")).toBe(reference("12345").slice(0, 12));
    expect(hashId("12345")).toMatch(/^[0-9a-f]{12}$/);
  });

  it("prefixes sender hashes with user_", () => {
    expect(hashSenderId("42")).toBe(`user_${reference("42").slice(0, 12)}`);
  });

  it("keeps a platform prefix of a chat id and hashes the rest", () => {
    expect(hashChatId("telegram:12345")).toBe(`telegram:${reference("12345").slice(0, 12)}`);
    expect(hashChatId("12345")).toBe(reference("12345").slice(0, 12));
    expect(hashChatId(":12345")).toBe(reference(":12345").slice(0, 12));
  });

  it("is deterministic and tells different ids apart", () => {
    expect(hashSenderId("a")).toBe(hashSenderId("a"));
    expect(hashSenderId("a")).not.toBe(hashSenderId("b"));
  });
});
