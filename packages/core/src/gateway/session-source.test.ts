import { describe, expect, it } from "vitest";
import { parseSessionSource, toSessionSourceRecord } from "./session-source.js";

describe("parseSessionSource", () => {
  it("reads camelCase input and defaults the chat type to dm", () => {
    expect(parseSessionSource({ platform: "telegram", chatId: "99" })).toEqual({
      platform: "telegram",
      chatId: "99",
      chatType: "dm",
    });
  });

  it("reads the snake_case wire shape and stringifies integer ids", () => {
    const source = parseSessionSource({
      platform: "discord",
      chat_id: 556,
      chat_name: "general",
      chat_type: "thread",
      user_id: 42,
      user_name: "Ada",
      thread_id: "557",
      chat_topic: "Ops",
      user_id_alt: "alt",
      chat_id_alt: "calt",
      parent_chat_id: "555",
      message_id: "m1",
      profile: "coder",
      scope_id: "g1",
    });
    expect(source).toEqual({
      platform: "discord",
      chatId: "556",
      chatName: "general",
      chatType: "thread",
      userId: "42",
      userName: "Ada",
      threadId: "557",
      chatTopic: "Ops",
      userIdAlt: "alt",
      chatIdAlt: "calt",
      parentChatId: "555",
      messageId: "m1",
      profile: "coder",
      scopeId: "g1",
    });
  });

  it("prefers scope_id over the legacy guild_id and falls back to guild_id", () => {
    expect(
      parseSessionSource({ platform: "discord", chat_id: "1", scope_id: "new", guild_id: "old" }).scopeId,
    ).toBe("new");
    expect(parseSessionSource({ platform: "discord", chat_id: "1", guild_id: "old" }).scopeId).toBe("old");
  });

  it("keeps an empty chat id and drops empty or null optional fields", () => {
    expect(
      parseSessionSource({ platform: "telegram", chatId: "", userId: "", chatName: null, threadId: null }),
    ).toEqual({
      platform: "telegram",
      chatId: "",
      chatType: "dm",
    });
  });

  it("ignores unknown fields, including trust flags a peer might try to forge", () => {
    const source = parseSessionSource({
      platform: "discord",
      chatId: "1",
      deliveredViaUpstreamRelay: true,
      is_bot: true,
    });
    expect(source).not.toHaveProperty("deliveredViaUpstreamRelay");
    expect(source).not.toHaveProperty("is_bot");
  });

  it.each([
    ["a non-object", "telegram"],
    ["an array", []],
    ["a missing platform", { chatId: "1" }],
    ["an upper-case platform", { platform: "Telegram", chatId: "1" }],
    ["a missing chat id", { platform: "telegram" }],
    ["an unknown chat type", { platform: "telegram", chatId: "1", chatType: "forum" }],
    ["a non-integer numeric id", { platform: "telegram", chatId: 1.5 }],
    ["an object id", { platform: "telegram", chatId: { id: 1 } }],
    ["a non-string name", { platform: "telegram", chatId: "1", chatName: 5 }],
    ["an oversized name", { platform: "telegram", chatId: "1", userName: "x".repeat(5000) }],
    ["a NUL in a chat name", { platform: "telegram", chatId: "1", chatName: "a\u0000b" }],
    ["an unpaired surrogate in a user name", { platform: "telegram", chatId: "1", userName: "\ud800" }],
  ])("rejects %s with INVALID_ARGUMENT", (_name, input) => {
    expect(() => parseSessionSource(input)).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it.each([
    ["a traversal chat id", { platform: "telegram", chatId: "../../etc/passwd" }],
    ["a slash in a user id", { platform: "telegram", chatId: "1", userId: "a/b" }],
    ["a backslash in a thread id", { platform: "telegram", chatId: "1", threadId: "a\\b" }],
    ["a NUL in a scope id", { platform: "discord", chatId: "1", scope_id: "g\u0000" }],
    ["a slash in a profile", { platform: "telegram", chatId: "1", profile: "a/b" }],
    ["an overlong chat id", { platform: "telegram", chatId: "9".repeat(300) }],
    ["an unpaired surrogate in a chat id", { platform: "telegram", chatId: "\ud800" }],
    ["an unpaired surrogate in a thread id", { platform: "telegram", chatId: "1", threadId: "t\udfff" }],
  ])("rejects %s with INVALID_ID", (_name, input) => {
    expect(() => parseSessionSource(input)).toThrowError(expect.objectContaining({ code: "INVALID_ID" }));
  });
});

describe("toSessionSourceRecord", () => {
  it("writes the snake_case wire shape with scope_id and its legacy alias", () => {
    expect(
      toSessionSourceRecord({
        platform: "discord",
        chatId: "1",
        chatType: "group",
        scopeId: "g",
        userId: "u",
        profile: "p",
      }),
    ).toEqual({
      platform: "discord",
      chat_id: "1",
      chat_name: null,
      chat_type: "group",
      user_id: "u",
      user_name: null,
      thread_id: null,
      chat_topic: null,
      scope_id: "g",
      guild_id: "g",
      profile: "p",
    });
  });

  it("round-trips through parseSessionSource", () => {
    const source = parseSessionSource({
      platform: "signal",
      chatId: "+100",
      chatType: "group",
      chatName: "Fam",
      userId: "u",
      userIdAlt: "uuid",
      chatIdAlt: "grp",
      threadId: "t",
      parentChatId: "p",
      messageId: "m",
      scopeId: "s",
      chatTopic: "topic",
      userName: "Bo",
      profile: "coder",
    });
    expect(parseSessionSource(toSessionSourceRecord(source))).toEqual(source);
  });
});
