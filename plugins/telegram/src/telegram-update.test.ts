import { describe, expect, it } from "vitest";
import { parseTelegramUpdate, type TelegramInbound, telegramInboundFromUpdate } from "./telegram-update.js";

const alice = { id: 501, is_bot: false, first_name: "Alice", username: "alice" };
const bob = { id: 502, is_bot: false, first_name: "Bob" };

const inboundOf = (body: unknown, botUsername?: string): TelegramInbound | undefined =>
  telegramInboundFromUpdate(parseTelegramUpdate(body), { botUsername });

const messageUpdate = (message: Record<string, unknown>, kind = "message") => ({
  update_id: 9001,
  [kind]: { message_id: 77, date: 1_767_225_600, ...message },
});

describe("Telegram update -> session source", () => {
  it("maps a private chat to a DM of the chat, with the sender as user", () => {
    const inbound = inboundOf(
      messageUpdate({ chat: { id: 501, type: "private", first_name: "Alice" }, from: alice, text: "hi" }),
    );
    expect(inbound).toEqual({
      updateId: 9001,
      source: {
        platform: "telegram",
        chatId: "501",
        chatType: "dm",
        chatName: "Alice",
        userId: "501",
        userName: "alice",
      },
      text: "hi",
      messageId: "501:77",
      timestamp: 1_767_225_600_000,
      replyTo: { chatId: 501 },
    });
  });

  it("maps a basic group to a group keyed by chat, each sender a user, replies quoting the message", () => {
    const inbound = inboundOf(
      messageUpdate({ chat: { id: -4001, type: "group", title: "Team" }, from: bob, text: "hello" }),
    );
    expect(inbound?.source).toEqual({
      platform: "telegram",
      chatId: "-4001",
      chatType: "group",
      chatName: "Team",
      userId: "502",
      userName: "Bob",
    });
    expect(inbound?.messageId).toBe("-4001:77");
    expect(inbound?.replyTo).toEqual({ chatId: -4001, replyToMessageId: 77 });
  });

  it("maps a supergroup message, including a reply thread that is not a forum topic, to a group", () => {
    const inbound = inboundOf(
      messageUpdate({
        chat: { id: -100_123, type: "supergroup", title: "Big" },
        from: alice,
        text: "in a reply chain",
        message_thread_id: 55,
      }),
    );
    expect(inbound?.source).toMatchObject({ chatId: "-100123", chatType: "group", userId: "501" });
    expect(inbound?.source.threadId).toBeUndefined();
    expect(inbound?.replyTo).toEqual({ chatId: -100_123, replyToMessageId: 77 });
  });

  it("maps a forum-topic message to a thread keyed by the topic, replying into the topic", () => {
    const inbound = inboundOf(
      messageUpdate({
        chat: { id: -100_777, type: "supergroup", title: "Forum", is_forum: true },
        from: alice,
        text: "topic talk",
        message_thread_id: 12,
        is_topic_message: true,
      }),
    );
    expect(inbound?.source).toEqual({
      platform: "telegram",
      chatId: "-100777",
      chatType: "thread",
      chatName: "Forum",
      userId: "501",
      userName: "alice",
      threadId: "12",
    });
    expect(inbound?.replyTo).toEqual({ chatId: -100_777, messageThreadId: 12, replyToMessageId: 77 });
  });

  it("maps a channel post to a channel, the channel being the sender", () => {
    const channel = { id: -100_999, type: "channel", title: "News" };
    const inbound = inboundOf(
      messageUpdate({ chat: channel, sender_chat: channel, text: "announcement" }, "channel_post"),
    );
    expect(inbound?.source).toEqual({
      platform: "telegram",
      chatId: "-100999",
      chatType: "channel",
      chatName: "News",
      userId: "-100999",
      userName: "News",
    });
  });

  it("takes the chat an anonymous admin speaks for as the sender, not the placeholder user", () => {
    const group = { id: -100_555, type: "supergroup", title: "Anon" };
    const inbound = inboundOf(
      messageUpdate({
        chat: group,
        from: { id: 1_087_968_824, is_bot: true, first_name: "Group", username: "GroupAnonymousBot" },
        sender_chat: group,
        text: "from an admin",
      }),
    );
    expect(inbound?.source).toMatchObject({ userId: "-100555", userName: "Anon" });
  });

  it("ignores updates without text: stickers, edits, callback queries, blank text, unknown chat types", () => {
    const chat = { id: 501, type: "private" };
    const ignored = [
      messageUpdate({ chat, from: alice, sticker: { file_id: "x" } }),
      messageUpdate({ chat, from: alice, text: "edited" }, "edited_message"),
      messageUpdate({ chat: { id: -1, type: "channel" }, text: "edited" }, "edited_channel_post"),
      { update_id: 1, callback_query: { id: "q", from: alice, data: "x" } },
      messageUpdate({ chat, from: alice, text: "   " }),
      messageUpdate({ chat: { id: 7, type: "some_future_type" }, from: alice, text: "hi" }),
    ];
    for (const body of ignored) expect(inboundOf(body), JSON.stringify(body)).toBeUndefined();
  });

  it("strips its own name from an addressed command and ignores commands addressed to another bot", () => {
    const chat = { id: -4001, type: "group", title: "Team" };
    const textOf = (text: string, botUsername?: string) =>
      inboundOf(messageUpdate({ chat, from: alice, text }), botUsername)?.text;
    expect(textOf("/reset@Engram_Bot", "engram_bot")).toBe("/reset");
    expect(textOf("/resume@engram_bot abc", "engram_bot")).toBe("/resume abc");
    expect(textOf("/reset@other_bot", "engram_bot")).toBeUndefined();
    expect(textOf("/reset@engram_bot")).toBe("/reset");
    expect(textOf("mail me@example.org", "engram_bot")).toBe("mail me@example.org");
  });

  it("refuses a malformed update with INVALID_ARGUMENT", () => {
    const malformed: unknown[] = [
      null,
      [1, 2],
      "text",
      {},
      { update_id: "1" },
      { update_id: 1, message: "hi" },
      { update_id: 1, message: { message_id: 1, date: 1, text: "no chat" } },
      { update_id: 1, message: { message_id: 1, date: 1, chat: { id: "501", type: "private" }, text: "x" } },
      {
        update_id: 1,
        message: { message_id: 1, date: 1, chat: { id: 2 ** 60, type: "private" }, text: "x" },
      },
    ];
    for (const body of malformed) {
      expect(() => parseTelegramUpdate(body), JSON.stringify(body)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
  });
});
