import { describe, expect, it } from "vitest";
import type { MessagingSession } from "../api/client.js";
import { describeMessagingSession } from "./messaging-labels.js";

const base: MessagingSession = {
  sessionId: "s",
  sessionKey: "k",
  platform: "telegram",
  chatType: "dm",
  title: "hello there",
  messageCount: 2,
  updatedAt: 0,
};

describe("a messaging session's label", () => {
  it("names the person of a DM, with the platform and the kind", () => {
    expect(describeMessagingSession({ ...base, userName: "Ada", chatName: "Ada's chat" })).toMatchObject({
      platform: "Telegram",
      icon: "T",
      name: "Ada",
      kind: "DM",
      preview: "hello there",
    });
  });

  it("names the chat of a group, and says Thread when the session is a thread", () => {
    const group = { ...base, platform: "slack", chatType: "group", userName: "Ada", chatName: "#eng" };
    expect(describeMessagingSession(group)).toMatchObject({ name: "#eng", kind: "Group" });
    expect(describeMessagingSession({ ...group, threadId: "t1" }).kind).toBe("Thread");
    expect(describeMessagingSession({ ...base, chatType: "channel", chatName: "news" }).kind).toBe("Channel");
  });

  it("falls back to the ids, then to the title, when the gateway gave no names", () => {
    expect(describeMessagingSession({ ...base, userId: "u42", chatId: "c7" }).name).toBe("u42");
    expect(describeMessagingSession(base).name).toBe("hello there");
  });
});
