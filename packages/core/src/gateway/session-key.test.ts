import { describe, expect, it } from "vitest";
import {
  buildSessionKey,
  isSharedMultiUserSession,
  resolveKeyProfile,
  type SessionKeyProps,
  sessionKeyNamespace,
} from "./session-key.js";
import type { SessionSource } from "./session-source.js";

const dm = (fields: Partial<SessionSource> = {}): SessionSource => ({
  platform: "telegram",
  chatId: "99",
  chatType: "dm",
  ...fields,
});
const group = (fields: Partial<SessionSource> = {}): SessionSource => ({
  platform: "telegram",
  chatId: "-100123",
  chatType: "group",
  userId: "42",
  ...fields,
});

interface KeyCase {
  readonly name: string;
  readonly source: SessionSource;
  readonly props?: SessionKeyProps;
  readonly key: string;
}

const cases: readonly KeyCase[] = [
  // DMs
  { name: "a DM is keyed by its chat id", source: dm(), key: "agent:main:telegram:dm:99" },
  {
    name: "a DM ignores the sender when the chat id is known",
    source: dm({ userId: "7", userIdAlt: "uuid-7" }),
    key: "agent:main:telegram:dm:99",
  },
  {
    name: "a threaded DM appends the thread",
    source: dm({ threadId: "t1" }),
    key: "agent:main:telegram:dm:99:t1",
  },
  {
    name: "a DM without chat id falls back to the sender id",
    source: dm({ chatId: "", userId: "7" }),
    key: "agent:main:telegram:dm:7",
  },
  {
    name: "a DM without chat id prefers the alternative sender id",
    source: dm({ chatId: "", userId: "7", userIdAlt: "uuid-7" }),
    key: "agent:main:telegram:dm:uuid-7",
  },
  {
    name: "a threaded DM without chat id keys by sender and thread",
    source: dm({ chatId: "", userId: "7", threadId: "t1" }),
    key: "agent:main:telegram:dm:7:t1",
  },
  {
    name: "a DM with neither chat nor sender uses the thread",
    source: dm({ chatId: "", threadId: "t1" }),
    key: "agent:main:telegram:dm:t1",
  },
  {
    name: "a DM with no identifiers at all shares one sink",
    source: dm({ chatId: "" }),
    key: "agent:main:telegram:dm",
  },
  // groups and channels
  {
    name: "a group isolates each participant by default",
    source: group(),
    key: "agent:main:telegram:group:-100123:42",
  },
  {
    name: "a group participant is keyed by the alternative user id first",
    source: group({ userIdAlt: "uuid-42" }),
    key: "agent:main:telegram:group:-100123:uuid-42",
  },
  {
    name: "a group is shared when per-user isolation is off",
    source: group(),
    props: { groupSessionsPerUser: false },
    key: "agent:main:telegram:group:-100123",
  },
  {
    name: "a group message without a sender shares the chat session",
    source: group({ userId: undefined }),
    key: "agent:main:telegram:group:-100123",
  },
  {
    name: "a channel follows the group rules",
    source: group({ platform: "slack", chatType: "channel", chatId: "C1" }),
    key: "agent:main:slack:channel:C1:42",
  },
  {
    name: "a group without chat id keys by platform, type and participant",
    source: group({ chatId: "" }),
    key: "agent:main:telegram:group:42",
  },
  {
    name: "a group without any identifier falls back to platform and chat type",
    source: group({ chatId: "", userId: undefined }),
    key: "agent:main:telegram:group",
  },
  // threads
  {
    name: "a thread inside a group is shared by all participants by default",
    source: group({ threadId: "17" }),
    key: "agent:main:telegram:group:-100123:17",
  },
  {
    name: "a thread isolates participants when thread isolation is on",
    source: group({ threadId: "17" }),
    props: { threadSessionsPerUser: true },
    key: "agent:main:telegram:group:-100123:17:42",
  },
  {
    name: "thread isolation applies even with group isolation off",
    source: group({ threadId: "17" }),
    props: { groupSessionsPerUser: false, threadSessionsPerUser: true },
    key: "agent:main:telegram:group:-100123:17:42",
  },
  {
    name: "a Discord thread chat type keys by chat and thread, shared",
    source: group({ platform: "discord", chatType: "thread", chatId: "555", threadId: "556" }),
    key: "agent:main:discord:thread:555:556",
  },
  {
    name: "a thread chat type without thread id follows the group isolation rule",
    source: group({ platform: "discord", chatType: "thread", chatId: "556" }),
    key: "agent:main:discord:thread:556:42",
  },
  // profiles
  {
    name: "the default profile keeps the historical agent:main namespace",
    source: dm(),
    props: { profile: "default" },
    key: "agent:main:telegram:dm:99",
  },
  {
    name: "an empty profile keeps agent:main",
    source: dm(),
    props: { profile: "" },
    key: "agent:main:telegram:dm:99",
  },
  {
    name: "a named profile replaces the namespace and keeps the layout",
    source: dm(),
    props: { profile: "coder" },
    key: "agent:coder:telegram:dm:99",
  },
  {
    name: "a named profile namespaces group keys too",
    source: group({ threadId: "17" }),
    props: { profile: "coder" },
    key: "agent:coder:telegram:group:-100123:17",
  },
  // fields that never enter a key
  {
    name: "scope, parent chat, message id and alternative chat id do not change the key",
    source: group({
      scopeId: "guild",
      parentChatId: "p",
      messageId: "m",
      chatIdAlt: "alt",
      chatName: "Team",
    }),
    key: "agent:main:telegram:group:-100123:42",
  },
  {
    name: "the source profile does not change the key; only the profile option does",
    source: dm({ profile: "coder" }),
    key: "agent:main:telegram:dm:99",
  },
];

describe("buildSessionKey", () => {
  it.each(cases)("$name", ({ source, props, key }) => {
    expect(buildSessionKey(source, props)).toBe(key);
  });

  it("canonicalises a DM chat id and a group participant through the injected identity resolver", () => {
    const aliases: Record<string, string> = { "60123@s.whatsapp.net": "60123", "999@lid": "60123" };
    const canonicalIdentity = (platform: string, id: string) => (platform === "whatsapp" ? aliases[id] : id);
    const wa = (fields: Partial<SessionSource>): SessionSource => ({
      platform: "whatsapp",
      chatId: "",
      chatType: "dm",
      ...fields,
    });
    expect(buildSessionKey(wa({ chatId: "60123@s.whatsapp.net" }), { canonicalIdentity })).toBe(
      "agent:main:whatsapp:dm:60123",
    );
    expect(buildSessionKey(wa({ chatId: "999@lid" }), { canonicalIdentity })).toBe(
      "agent:main:whatsapp:dm:60123",
    );
    const member = wa({ chatType: "group", chatId: "g1@g.us", userId: "999@lid" });
    expect(buildSessionKey(member, { canonicalIdentity })).toBe("agent:main:whatsapp:group:g1@g.us:60123");
  });

  it("keeps the raw participant id when the resolver knows no canonical form", () => {
    const source = group({ platform: "whatsapp", userId: "unknown@lid" });
    expect(buildSessionKey(source, { canonicalIdentity: () => undefined })).toBe(
      "agent:main:whatsapp:group:-100123:unknown@lid",
    );
  });

  it("falls back to the sender when the resolver rejects a DM chat id", () => {
    const source = dm({ platform: "whatsapp", chatId: "junk", userId: "7" });
    expect(buildSessionKey(source, { canonicalIdentity: (_p, id) => (id === "junk" ? "" : id) })).toBe(
      "agent:main:whatsapp:dm:7",
    );
  });

  it("keeps two users' DMs without chat ids apart", () => {
    const a = buildSessionKey(dm({ chatId: "", userId: "1" }));
    const b = buildSessionKey(dm({ chatId: "", userId: "2" }));
    expect(a).not.toBe(b);
  });

  it.each<readonly [string, SessionSource, SessionKeyProps]>([
    ["a slash", dm({ chatId: "../../etc" }), {}],
    ["a backslash", group({ userId: "a\\b" }), {}],
    ["a control character", dm({ threadId: "t\u0000" }), {}],
    ["a path-unsafe profile", dm(), { profile: "../x" }],
    ["a colon in the profile", dm(), { profile: "a:b" }],
    ["a colon in the platform", dm({ platform: "tele:gram" }), {}],
  ])("rejects a hand-built source whose key would carry %s", (_what, source, props) => {
    expect(() => buildSessionKey(source, props)).toThrowError(
      expect.objectContaining({ code: "INVALID_ID" }),
    );
  });
});

describe("sessionKeyNamespace", () => {
  it("maps no profile and the default profile to agent:main and others to agent:<profile>", () => {
    expect(sessionKeyNamespace()).toBe("agent:main");
    expect(sessionKeyNamespace("default")).toBe("agent:main");
    expect(sessionKeyNamespace("ops")).toBe("agent:ops");
  });
});

describe("isSharedMultiUserSession", () => {
  const table: ReadonlyArray<readonly [string, SessionSource, SessionKeyProps, boolean]> = [
    ["a DM is never shared", dm(), {}, false],
    [
      "a DM is never shared even with isolation off",
      dm({ threadId: "t" }),
      { groupSessionsPerUser: false },
      false,
    ],
    ["a thread is shared by default", group({ threadId: "17" }), {}, true],
    [
      "a thread is not shared with thread isolation",
      group({ threadId: "17" }),
      { threadSessionsPerUser: true },
      false,
    ],
    ["a group is not shared by default", group(), {}, false],
    ["a group is shared with group isolation off", group(), { groupSessionsPerUser: false }, true],
  ];
  it.each(table)("%s", (_name, source, props, shared) => {
    expect(isSharedMultiUserSession(source, props)).toBe(shared);
  });

  it("agrees with buildSessionKey on whether the participant is in the key", () => {
    for (const props of [{}, { groupSessionsPerUser: false }, { threadSessionsPerUser: true }]) {
      for (const source of [group(), group({ threadId: "17" })]) {
        const keyed = buildSessionKey(source, props).endsWith(":42");
        expect(isSharedMultiUserSession(source, props)).toBe(!keyed);
      }
    }
  });
});

describe("resolveKeyProfile", () => {
  it("uses no profile unless profiles are multiplexed", () => {
    expect(
      resolveKeyProfile({ multiplexProfiles: false, source: dm({ profile: "coder" }), activeProfile: "x" }),
    ).toBe(undefined);
  });

  it("prefers the source profile, then the active profile, then default", () => {
    expect(
      resolveKeyProfile({ multiplexProfiles: true, source: dm({ profile: "coder" }), activeProfile: "x" }),
    ).toBe("coder");
    expect(resolveKeyProfile({ multiplexProfiles: true, source: dm(), activeProfile: "x" })).toBe("x");
    expect(resolveKeyProfile({ multiplexProfiles: true })).toBe("default");
  });
});
