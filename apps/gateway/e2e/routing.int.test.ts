/**
 * Session routing of the real gateway executable over HTTP (seed 004 `build_session_key`): which
 * messages share a session, under the default isolation and with the isolation flags flipped, plus
 * `/resume` scoping, duplicate delivery, concurrency and the refusal of bad input.
 */
import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeE2E, E2E_TOKEN, type ErrorReply, type MessageReply } from "./harness/index.js";

const dm = (chatId: string, extra: object = {}) => ({
  platform: "telegram",
  chatId,
  chatType: "dm",
  userId: chatId,
  ...extra,
});
const group = (chatId: string, userId: string, extra: object = {}) => ({
  platform: "telegram",
  chatId,
  chatType: "group",
  userId,
  ...extra,
});

describeE2E("gateway routing end to end", (gateway) => {
  it("gives each DM chat its own session and keeps it across messages", async () => {
    const a1 = await gateway().say(dm("1001"), "hello from a");
    const b1 = await gateway().say(dm("1002"), "hello from b");
    const a2 = await gateway().say(dm("1001"), "again from a");
    expect(a1.sessionKey).toBe("agent:main:telegram:dm:1001");
    expect(b1.sessionKey).toBe("agent:main:telegram:dm:1002");
    expect(a2.sessionId).toBe(a1.sessionId);
    expect(b1.sessionId).not.toBe(a1.sessionId);
    expect(a1.reply).toContain("You said: hello from a");
    expect(a2.reply).toContain("You said: again from a");
  });

  it("builds the seed's session keys: threaded DMs, sender fallbacks, per-user groups, alt ids, profiles", async () => {
    const cases: Array<[object, string]> = [
      [dm("2001", { threadId: "t1" }), "agent:main:telegram:dm:2001:t1"],
      [{ platform: "discord", chatId: "", chatType: "dm", userId: "u2002" }, "agent:main:discord:dm:u2002"],
      [{ platform: "slack", chatId: "", chatType: "dm", threadId: "t2003" }, "agent:main:slack:dm:t2003"],
      [{ platform: "matrix", chatId: "", chatType: "dm" }, "agent:main:matrix:dm"],
      [group("g2004", "u1"), "agent:main:telegram:group:g2004:u1"],
      [
        { platform: "signal", chatId: "g2005", chatType: "group", userId: "u1", userIdAlt: "uuid-1" },
        "agent:main:signal:group:g2005:uuid-1",
      ],
      [{ platform: "telegram", chatId: "g2006", chatType: "group" }, "agent:main:telegram:group:g2006"],
      [
        { platform: "slack", chatId: "C2007", chatType: "channel", userId: "U1" },
        "agent:main:slack:channel:C2007:U1",
      ],
      [dm("2008", { profile: "work" }), "agent:work:telegram:dm:2008"],
      [
        { platform: "telegram", chat_id: 2009, chat_type: "dm", user_id: 2009 },
        "agent:main:telegram:dm:2009",
      ],
    ];
    const ids = new Set<string>();
    for (const [source, key] of cases) {
      const reply = await gateway().say(source, "key check");
      expect(reply.sessionKey, JSON.stringify(source)).toBe(key);
      ids.add(reply.sessionId);
    }
    expect(ids.size).toBe(cases.length);
  });

  it("isolates group participants and shares a thread among them by default", async () => {
    const u1 = await gateway().say(group("-3001", "u1"), "in the group");
    const u2 = await gateway().say(group("-3001", "u2"), "in the group too");
    expect(u1.sessionId).not.toBe(u2.sessionId);
    const t1 = await gateway().say(group("-3001", "u1", { threadId: "17" }), "in the topic");
    const t2 = await gateway().say(group("-3001", "u2", { threadId: "17" }), "me too in the topic");
    expect(t1.sessionKey).toBe("agent:main:telegram:group:-3001:17");
    expect(t2.sessionId).toBe(t1.sessionId);
    const transcript = await gateway().withDb((db) =>
      db
        .selectFrom("messages")
        .select(["role", "content"])
        .where("session_id", "=", t1.sessionId)
        .orderBy("id")
        .execute(),
    );
    expect(transcript.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "in the topic",
      "me too in the topic",
    ]);
  });

  it("isolates thread participants and shares groups when the flags say so (restart on the same database)", async () => {
    const shared = await gateway().say(group("-3101", "u1", { threadId: "9" }), "before the flip");
    await gateway().restart({
      env: { ENGRAM_GATEWAY_THREAD_SESSIONS_PER_USER: "1", ENGRAM_GATEWAY_GROUP_SESSIONS_PER_USER: "0" },
    });
    try {
      const u1 = await gateway().say(group("-3101", "u1", { threadId: "9" }), "thread, u1");
      const u2 = await gateway().say(group("-3101", "u2", { threadId: "9" }), "thread, u2");
      expect(u1.sessionKey).toBe("agent:main:telegram:group:-3101:9:u1");
      expect(u2.sessionKey).toBe("agent:main:telegram:group:-3101:9:u2");
      expect(new Set([shared.sessionId, u1.sessionId, u2.sessionId]).size).toBe(3);
      const g1 = await gateway().say(group("-3102", "u1"), "group, u1");
      const g2 = await gateway().say(group("-3102", "u2"), "group, u2");
      expect(g1.sessionKey).toBe("agent:main:telegram:group:-3102");
      expect(g2.sessionId).toBe(g1.sessionId);
    } finally {
      await gateway().restart({ env: {} });
    }
  });

  it("resumes only the chat's own sessions: /resume of another user's session is refused", async () => {
    const alice = await gateway().say(dm("4001"), "alice's secret plan");
    const bob = await gateway().say(dm("4002"), "bob here");
    const refused = await gateway().send(dm("4002"), `/resume ${alice.sessionId}`);
    expect(refused.status).toBe(404);
    expect((refused.body as unknown as ErrorReply).error.code).toBe("NOT_FOUND");
    expect((await gateway().say(dm("4002"), "still bob")).sessionId).toBe(bob.sessionId);
    expect((await gateway().say(dm("4001"), "still alice")).sessionId).toBe(alice.sessionId);

    // Alice's own earlier session is hers to resume after /new.
    const fresh = await gateway().say(dm("4001"), "/new");
    expect(fresh.sessionId).not.toBe(alice.sessionId);
    const resumed = await gateway().say(dm("4001"), `/resume ${alice.sessionId}`);
    expect(resumed.sessionId).toBe(alice.sessionId);
    expect((await gateway().say(dm("4001"), "back again")).sessionId).toBe(alice.sessionId);
  });

  it("runs a redelivered platform message id once, sequentially and concurrently, answering each copy with its reply", async () => {
    const first = await gateway().say(dm("5001"), "only once", { messageId: "tg-77" });
    expect(first.duplicate).toBeUndefined();
    const again = await gateway().say(dm("5001"), "only once", { messageId: "tg-77" });
    expect(again).toMatchObject({ sessionId: first.sessionId, reply: first.reply, duplicate: true });
    const racing = await Promise.all(
      Array.from({ length: 8 }, () => gateway().say(dm("5001"), "raced", { messageId: 78 })),
    );
    expect(racing.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.reply)).size).toBe(1);
    const rows = await gateway().withDb((db) =>
      db
        .selectFrom("messages")
        .select(["role", "content", "platform_message_id"])
        .where("session_id", "=", first.sessionId)
        .orderBy("id")
        .execute(),
    );
    expect(rows.map((r) => [r.role, r.platform_message_id])).toEqual([
      ["user", "tg-77"],
      ["assistant", null],
      ["user", "78"],
      ["assistant", null],
    ]);
  });

  it("serialises 20 concurrent messages to one session: each reply follows its own message, none lost or doubled", async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `burst ${i}`);
    const replies = await Promise.all(
      texts.map((text, i) => gateway().say(dm("6001"), text, { messageId: `b${i}` })),
    );
    const sessionId = replies[0]!.sessionId;
    expect(replies.every((r) => r.sessionId === sessionId && !r.duplicate)).toBe(true);
    for (const [i, reply] of replies.entries()) expect(reply.reply).toContain(`You said: ${texts[i]} `);
    const rows = await gateway().withDb((db) =>
      db
        .selectFrom("messages")
        .select(["role", "content"])
        .where("session_id", "=", sessionId)
        .orderBy("id")
        .execute(),
    );
    expect(rows).toHaveLength(40);
    for (let i = 0; i < 40; i += 2) {
      expect(rows[i]!.role).toBe("user");
      expect(rows[i + 1]!.role).toBe("assistant");
      // A turn's answer directly follows its own message: no interleaving of two turns.
      expect(rows[i + 1]!.content).toContain(`You said: ${rows[i]!.content} `);
    }
    expect(
      rows
        .filter((r) => r.role === "user")
        .map((r) => r.content)
        .sort(),
    ).toEqual([...texts].sort());
  });

  it("agrees on one session when two gateway processes race the first messages of a new chat", async (context) => {
    if (gateway().backend === "pglite") {
      console.log(
        "skipped on PGlite: its data folder belongs to one process, so two gateways cannot share it",
      );
      context.skip();
    }
    const peer = await gateway().startPeer();
    try {
      // Five new shared threads, twenty participants each, every message alternating between the two
      // processes and all 100 in flight at once: each process serialises its own turns per key, so
      // only the routing index's compare-and-set keeps the processes from creating two sessions.
      const chats = Array.from({ length: 5 }, (_, c) => `race${c}`);
      const processes = [gateway().process, peer];
      const answers = await Promise.all(
        chats.flatMap((thread) =>
          Array.from({ length: 20 }, (_, i) =>
            processes[i % 2]!.post<MessageReply>(
              {
                source: group("-6101", `u${i}`, { threadId: thread }),
                text: `${thread} racer ${i}`,
                messageId: `${thread}-${i}`,
              },
              { authorization: `Bearer ${E2E_TOKEN}` },
            ),
          ),
        ),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      for (const [c, thread] of chats.entries()) {
        const mine = answers.slice(c * 20, c * 20 + 20);
        const sessionIds = new Set(mine.map((a) => a.body.sessionId));
        expect(sessionIds.size, thread).toBe(1);
        const [sessionId] = [...sessionIds];
        const { sessions, users } = await gateway().withDb(async (db) => ({
          sessions: await db
            .selectFrom("sessions")
            .select("id")
            .where("session_key", "=", mine[0]!.body.sessionKey)
            .execute(),
          users: await db
            .selectFrom("messages")
            .select("content")
            .where("session_id", "=", sessionId!)
            .where("role", "=", "user")
            .execute(),
        }));
        expect(sessions).toEqual([{ id: sessionId }]);
        expect(users.map((u) => u.content).sort()).toEqual(
          Array.from({ length: 20 }, (_, i) => `${thread} racer ${i}`).sort(),
        );
      }
    } finally {
      await peer.kill("SIGTERM");
    }
  });

  it("answers health and Prometheus metrics without a token, counting the turns it ran", async () => {
    const health = await gateway().process.get("/health");
    expect(health).toEqual({ status: 200, text: JSON.stringify({ status: "ok" }) });
    const before = await gateway().metric("engram_gateway_turns_total", { outcome: "completed" });
    await gateway().say(dm("6201"), "count me");
    await gateway().say(dm("6201"), "count me", { messageId: "once" });
    await gateway().say(dm("6201"), "count me", { messageId: "once" });
    expect((await gateway().metric("engram_gateway_turns_total", { outcome: "completed" })) - before).toBe(2);
    expect(
      await gateway().metric("engram_gateway_turns_total", { outcome: "duplicate" }),
    ).toBeGreaterThanOrEqual(1);
    expect(await gateway().metric("engram_gateway_agent_cache_size")).toBeGreaterThan(0);
  });

  it("refuses bad requests with coded errors and writes nothing", async () => {
    const post = (
      body: unknown,
      headers: Record<string, string> = { authorization: `Bearer ${E2E_TOKEN}` },
    ) => gateway().process.post<ErrorReply>(body, headers);
    const valid = { source: dm("7001"), text: "hi" };
    const cases: Array<[Awaited<ReturnType<typeof post>>, number, string]> = [
      [await post(valid, {}), 401, "UNAUTHORIZED"],
      [await post(valid, { authorization: "Bearer wrong-token-0123456789ab" }), 401, "UNAUTHORIZED"],
      [await post('{"source": {"platform": "telegram"', undefined), 400, "INVALID_ARGUMENT"],
      [await post({ source: dm("../../etc"), text: "hi" }), 400, "INVALID_ID"],
      [await post({ source: dm("7001", { threadId: "a/b" }), text: "hi" }), 400, "INVALID_ID"],
      [await post({ source: dm("7001"), text: "x".repeat(64 * 1024 + 1) }), 413, "CONTENT_TOO_LARGE"],
      [await post({ source: dm("7001"), text: "" }), 400, "INVALID_ARGUMENT"],
      [await post({ source: { platform: "Telegram!", chatId: "1" }, text: "hi" }), 400, "INVALID_ARGUMENT"],
      [await post([1, 2]), 400, "INVALID_ARGUMENT"],
      [await post({ source: dm("7001"), text: "/resume ../../sessions" }), 400, "INVALID_ID"],
      [await post({ source: dm("7001"), text: "/resume 20990101_000000_deadbeef" }), 404, "NOT_FOUND"],
      [await post({ source: dm("7001"), text: "y".repeat(2 * 1024 * 1024) }), 413, "CONTENT_TOO_LARGE"],
    ];
    for (const [answer, status, code] of cases) {
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(typeof answer.body.error.message).toBe("string");
    }
    const written = await gateway().withDb(async (db) => {
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from sessions where session_key like ${"%7001%"} or session_key like ${"%etc%"}`.execute(
        db,
      );
      return rows[0]!.n;
    });
    expect(written).toBe(0);
  });
});
