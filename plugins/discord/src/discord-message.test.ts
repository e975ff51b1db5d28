import { describe, expect, it } from "vitest";
import { addressedText, type DiscordMessage, discordInboundFromMessage } from "./discord-message.js";
import { discordAdapterConfigSchema } from "./discord-plugin.js";

const BOT = "900000000000000001";
const message = (content: string, extra: Partial<DiscordMessage> = {}): DiscordMessage => ({
  id: "1200000000000000001",
  channel_id: "820000000000000001",
  guild_id: "800000000000000001",
  content,
  author: { id: "700000000000000001", username: "ana" },
  ...extra,
});
const trigger = (respondTo: "mention" | "prefix" | "all", prefix = "!") => ({
  botId: BOT,
  respondTo,
  prefix,
});

describe("which messages are for the bot", () => {
  it("mention: wants <@bot> or <@!bot> anywhere, and removes it", () => {
    expect(addressedText(message("hello all"), trigger("mention"))).toBeUndefined();
    expect(addressedText(message(`<@${BOT}> hello`), trigger("mention"))).toBe("hello");
    expect(addressedText(message(`hi <@!${BOT}> there`), trigger("mention"))).toBe("hi there");
    // Another user's mention is not the bot's.
    expect(addressedText(message("<@700000000000000002> hello"), trigger("mention"))).toBeUndefined();
    // A bare mention has nothing to answer.
    expect(addressedText(message(`<@${BOT}>`), trigger("mention"))).toBeUndefined();
    // Multi-line text keeps its lines.
    expect(addressedText(message(`<@${BOT}> line one\nline two`), trigger("mention"))).toBe(
      "line one\nline two",
    );
  });

  it("prefix: wants the prefix at the start and removes it; all: everything", () => {
    expect(addressedText(message("remember this"), trigger("prefix"))).toBeUndefined();
    expect(addressedText(message("!remember this"), trigger("prefix"))).toBe("remember this");
    expect(addressedText(message("?? what now", {}), trigger("prefix", "??"))).toBe("what now");
    expect(addressedText(message("plain"), trigger("all"))).toBe("plain");
  });

  it("DMs are always for the bot, whatever the rule", () => {
    const dm = message("just text", { guild_id: undefined });
    for (const rule of ["mention", "prefix", "all"] as const)
      expect(addressedText(dm, trigger(rule))).toBe("just text");
  });

  it("maps DMs, guild channels and threads to session sources; ignores bots, webhooks and system messages", () => {
    const dm = discordInboundFromMessage(message("hi", { guild_id: undefined }), trigger("all"), undefined);
    expect(dm?.source).toMatchObject({ platform: "discord", chatType: "dm", chatId: "820000000000000001" });
    const group = discordInboundFromMessage(message("hi"), trigger("all"), { type: 0, name: "general" });
    expect(group?.source).toMatchObject({
      chatType: "group",
      chatName: "general",
      scopeId: "800000000000000001",
    });
    const thread = discordInboundFromMessage(message("hi"), trigger("all"), {
      type: 11,
      parentId: "810000000000000009",
    });
    expect(thread?.source).toMatchObject({
      chatType: "thread",
      chatId: "810000000000000009",
      threadId: "820000000000000001",
    });
    expect(thread?.channelId).toBe("820000000000000001");
    const ignored = [
      message("hi", { author: { id: "1", bot: true } }),
      message("hi", { webhook_id: "55" }),
      message("hi", { type: 7 }),
    ];
    for (const m of ignored)
      expect(discordInboundFromMessage(m, trigger("all"), { type: 0 })).toBeUndefined();
  });
});

describe("the plugin's configuration", () => {
  it("defaults to mention with the ! prefix and refuses bad values, naming each", () => {
    expect(discordAdapterConfigSchema.parse({ botToken: "MTIzNDU2Nzg5MDEyMzQ1Njc4.abc.def" })).toEqual({
      botToken: "MTIzNDU2Nzg5MDEyMzQ1Njc4.abc.def",
      respondTo: "mention",
      prefix: "!",
    });
    const bad = discordAdapterConfigSchema.safeParse({
      botToken: "short",
      respondTo: "everyone",
      prefix: "with space",
      apiUrl: "ftp://example.org",
      extra: true,
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((issue) => issue.path.join(".") || issue.code);
    expect(paths).toEqual(expect.arrayContaining(["botToken", "respondTo", "prefix", "apiUrl"]));
    expect(bad.error?.issues.some((issue) => issue.code === "unrecognized_keys")).toBe(true);
  });
});
