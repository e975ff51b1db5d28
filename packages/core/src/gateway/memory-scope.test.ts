import { describe, expect, it } from "vitest";
import { type MemoryScopeProps, memoryScopeFor } from "./memory-scope.js";
import { buildSessionKey } from "./session-key.js";
import type { SessionSource } from "./session-source.js";

const source = (fields: Partial<SessionSource>): SessionSource => ({
  platform: "telegram",
  chatId: "-100123",
  chatType: "group",
  ...fields,
});

interface ScopeCase {
  readonly name: string;
  readonly source: SessionSource;
  readonly props?: MemoryScopeProps;
  readonly scope: string;
}

const cases: readonly ScopeCase[] = [
  {
    name: "a DM is scoped to its person, not to the chat",
    source: source({ chatType: "dm", chatId: "99", userId: "7" }),
    scope: "telegram:user:7",
  },
  {
    name: "the stable alternative user id wins over the user id",
    source: source({ chatType: "dm", chatId: "99", userId: "7", userIdAlt: "uuid-7" }),
    scope: "telegram:user:uuid-7",
  },
  {
    name: "a DM without a user id falls back to its chat",
    source: source({ chatType: "dm", chatId: "99" }),
    scope: "telegram:chat:99",
  },
  {
    name: "a group with per-user sessions (the default) is scoped to the person",
    source: source({ userId: "7" }),
    scope: "telegram:user:7",
  },
  {
    name: "a channel with per-user sessions is scoped to the person",
    source: source({ chatType: "channel", userId: "7" }),
    props: { groupSessionsPerUser: true },
    scope: "telegram:user:7",
  },
  {
    name: "a shared group is scoped to the room",
    source: source({ userId: "7" }),
    props: { groupSessionsPerUser: false },
    scope: "telegram:chat:-100123",
  },
  {
    name: "a group message without a user id is scoped to the room",
    source: source({}),
    scope: "telegram:chat:-100123",
  },
  {
    name: "a shared thread (the default) is scoped to the thread of its chat",
    source: source({ chatType: "thread", threadId: "55", userId: "7" }),
    scope: "telegram:chat:-100123:55",
  },
  {
    name: "a thread with per-user sessions is scoped to the person",
    source: source({ chatType: "thread", threadId: "55", userId: "7" }),
    props: { threadSessionsPerUser: true },
    scope: "telegram:user:7",
  },
  {
    name: "a topic in a group is a thread: shared unless threads are per user",
    source: source({ threadId: "55", userId: "7" }),
    props: { groupSessionsPerUser: true },
    scope: "telegram:chat:-100123:55",
  },
  {
    name: "a canonical identity joins one person's two ids",
    source: source({ platform: "whatsapp", chatType: "dm", chatId: "lid-1", userId: "lid-1" }),
    props: { canonicalIdentity: (_platform, id) => (id === "lid-1" ? "phone-1" : id) },
    scope: "whatsapp:user:phone-1",
  },
  {
    name: "a canonical identity that knows nothing keeps the raw id",
    source: source({ chatType: "dm", chatId: "99", userId: "7" }),
    props: { canonicalIdentity: () => undefined },
    scope: "telegram:user:7",
  },
];

describe("memoryScopeFor", () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(memoryScopeFor(c.source, c.props)).toBe(c.scope);
    });
  }

  it("gives one person one scope across their DM and their groups, and keeps two people apart", () => {
    const aliceDm = source({ chatType: "dm", chatId: "1", userId: "1" });
    const aliceInGroup = source({ userId: "1" });
    const bobDm = source({ chatType: "dm", chatId: "2", userId: "2" });
    expect(memoryScopeFor(aliceDm)).toBe(memoryScopeFor(aliceInGroup));
    expect(memoryScopeFor(bobDm)).not.toBe(memoryScopeFor(aliceDm));
    // Their sessions differ even though their memory is shared.
    expect(buildSessionKey(aliceDm)).not.toBe(buildSessionKey(aliceInGroup));
  });

  it("never puts a shared room in a member's personal scope", () => {
    const member = memoryScopeFor(source({ chatType: "dm", chatId: "7", userId: "7" }));
    const sharedGroup = memoryScopeFor(source({ userId: "7" }), { groupSessionsPerUser: false });
    const sharedThread = memoryScopeFor(source({ chatType: "thread", threadId: "1", userId: "7" }));
    for (const room of [sharedGroup, sharedThread]) {
      expect(room).not.toBe(member);
      expect(room.startsWith("telegram:chat:")).toBe(true);
    }
  });

  it("keeps the same id on two platforms apart", () => {
    const on = (platform: string) =>
      memoryScopeFor(source({ platform, chatType: "dm", chatId: "7", userId: "7" }));
    expect(on("telegram")).not.toBe(on("discord"));
  });

  it("rejects a hand-built source that would make an unsafe or ambiguous scope with INVALID_ID", () => {
    for (const bad of [
      source({ platform: "" }),
      source({ platform: "tele:gram", userId: "7" }),
      source({ chatType: "dm", userId: "../7" }),
      source({ chatType: "dm", userId: "a/b" }),
      source({ chatType: "dm", userId: "x".repeat(1100) }),
    ]) {
      expect(() => memoryScopeFor(bad)).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
    }
  });
});
