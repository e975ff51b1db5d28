import {
  type Clock,
  type EngramError,
  GATEWAY_END_REASONS,
  type NewTranscriptMessage,
  type TranscriptStore,
} from "@engram/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

/** What the suite hands `createStore`: the clock to use and, when a test needs it, a smaller size cap. */
export interface TranscriptStoreFactoryProps {
  readonly clock: Clock;
  readonly maxMessageBytes?: number;
}

/**
 * One implementation under test. `createStore` is called before every test and must return a store
 * over empty state (a fresh in-memory instance, or a truncated database).
 */
export interface TranscriptStoreTestInitializer {
  readonly name: string;
  readonly beforeAll?: () => Promise<void>;
  readonly afterAll?: () => Promise<void>;
  readonly beforeAllTimeout?: number;
  /** Empty state for the next test (e.g. `truncateAll`). */
  readonly reset?: () => Promise<void>;
  readonly createStore: (props: TranscriptStoreFactoryProps) => TranscriptStore | Promise<TranscriptStore>;
  /** Number of racing writers in the concurrency tests (default 40). */
  readonly concurrency?: number;
}

const START = Date.UTC(2026, 0, 1);

/** A clock that advances 1 ms per reading, so every write gets a distinct, ordered timestamp. */
export function steppingClock(start = START): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now++,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as EngramError).code ?? `uncoded: ${String(error)}`;
  }
}

const user = (content: string, extra: Partial<NewTranscriptMessage> = {}): NewTranscriptMessage => ({
  role: "user",
  content,
  ...extra,
});
const assistant = (content: string, extra: Partial<NewTranscriptMessage> = {}): NewTranscriptMessage => ({
  role: "assistant",
  content,
  ...extra,
});

/**
 * The behaviour every `TranscriptStore` must have. Registers one `describe` named after the
 * initializer; call it once per implementation (and per backend).
 */
export function transcriptStoreConformance(init: TranscriptStoreTestInitializer): void {
  const racers = init.concurrency ?? 40;

  describe(init.name, () => {
    let clock: ReturnType<typeof steppingClock>;
    let store: TranscriptStore;
    const makeStore = (props: Partial<TranscriptStoreFactoryProps> = {}) =>
      Promise.resolve(init.createStore({ clock, ...props }));

    if (init.beforeAll) beforeAll(init.beforeAll, init.beforeAllTimeout);
    if (init.afterAll) afterAll(init.afterAll);
    beforeEach(async () => {
      await init.reset?.();
      clock = steppingClock();
      store = await makeStore();
    });

    describe("sessions", () => {
      it("creates a session and reads it back with zeroed counters", async () => {
        const created = await store.createSession({
          id: "s1",
          source: "telegram",
          userId: "u1",
          title: "Hello",
        });
        expect(created).toMatchObject({
          id: "s1",
          source: "telegram",
          userId: "u1",
          title: "Hello",
          messageCount: 0,
          toolCallCount: 0,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          endedAt: null,
          endReason: null,
          pinned: false,
          archived: false,
        });
        expect(await store.getSession("s1")).toEqual(created);
        expect(await store.getSession("missing")).toBeUndefined();
      });

      it("fills only empty columns when the session already exists", async () => {
        await store.createSession({ id: "s1", source: "telegram", userId: "u1", model: "first" });
        const again = await store.createSession({
          id: "s1",
          source: "discord",
          userId: "u2",
          model: "second",
          chatId: "c9",
        });
        expect(again).toMatchObject({ source: "telegram", userId: "u1", model: "first", chatId: "c9" });
      });

      it("keeps titles unique among live sessions and frees a deleted session's title", async () => {
        await store.createSession({ id: "a", source: "web", title: "Plan" });
        expect(await codeOf(store.createSession({ id: "b", source: "web", title: "Plan" }))).toBe("CONFLICT");
        expect(await store.getSession("b")).toBeUndefined();
        await store.createSession({ id: "b", source: "web" });
        expect(await codeOf(store.updateSession("b", { title: "Plan" }))).toBe("CONFLICT");
        await store.deleteSession("a");
        expect(await store.getSession("a")).toBeUndefined();
        expect((await store.updateSession("b", { title: "Plan" })).title).toBe("Plan");
      });

      it("suggests the next free title", async () => {
        expect(await store.nextAvailableTitle("Plan")).toBe("Plan");
        await store.createSession({ id: "a", source: "web", title: "Plan" });
        await store.createSession({ id: "b", source: "web", title: "Plan #2" });
        expect(await store.nextAvailableTitle("Plan")).toBe("Plan #3");
        // LIKE wildcards in the base are literal.
        await store.createSession({ id: "c", source: "web", title: "50% done" });
        await store.createSession({ id: "d", source: "web", title: "50X done #2" });
        expect(await store.nextAvailableTitle("50% done")).toBe("50% done #2");
      });

      it("updates flags and model", async () => {
        await store.createSession({ id: "s1", source: "web" });
        const updated = await store.updateSession("s1", {
          pinned: true,
          archived: true,
          model: "m",
          projectId: "p",
        });
        expect(updated).toMatchObject({ pinned: true, archived: true, model: "m", projectId: "p" });
      });
    });

    describe("ending and reopening", () => {
      it("lets the first ender win and keeps its reason", async () => {
        await store.createSession({ id: "s1", source: "telegram" });
        expect(await store.endSession("s1", "session_reset")).toEqual({
          ended: true,
          endReason: "session_reset",
        });
        expect(await store.endSession("s1", "agent_close")).toEqual({
          ended: false,
          endReason: "session_reset",
        });
        expect((await store.getSession("s1"))?.endReason).toBe("session_reset");
      });

      it("writes exactly one reason when enders race", async () => {
        await store.createSession({ id: "s1", source: "telegram" });
        const results = await Promise.all(
          Array.from({ length: racers }, (_, i) => store.endSession("s1", `reason_${i}`)),
        );
        const winners = results.filter((result) => result.ended);
        expect(winners).toHaveLength(1);
        const stored = (await store.getSession("s1"))?.endReason;
        expect(stored).toBe(winners[0]?.endReason);
        expect(new Set(results.map((result) => result.endReason))).toEqual(new Set([stored]));
      });

      it("reopen clears the end so a later end writes again", async () => {
        await store.createSession({ id: "s1", source: "telegram" });
        expect(await store.reopenSession("s1")).toBe(false);
        await store.endSession("s1", "agent_close");
        expect(await store.reopenSession("s1")).toBe(true);
        expect(await store.getSession("s1")).toMatchObject({ endedAt: null, endReason: null });
        expect((await store.endSession("s1", "session_switch")).ended).toBe(true);
      });
    });

    describe("messages", () => {
      it("answers an append with the session's count and update time, as getSession then reads them", async () => {
        await store.createSession({ id: "stamped", source: "telegram" });
        const plain = await store.appendMessage("stamped", { role: "user", content: "one" });
        expect(plain.session?.messageCount).toBe(1);
        const keyed = await store.appendMessage("stamped", {
          role: "assistant",
          content: "two",
          platformMessageId: "p-1",
        });
        const row = await store.getSession("stamped");
        expect(keyed.session).toEqual({ messageCount: 2, updatedAt: row?.updatedAt });
        const repeat = await store.appendMessage("stamped", {
          role: "assistant",
          content: "two",
          platformMessageId: "p-1",
        });
        expect(repeat).toMatchObject({ duplicate: true });
        expect(repeat.session).toBeUndefined();
      });

      it("appends messages in order with their structured fields and bumps the counters", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        await store.appendMessage("s1", user("What is 2+2?", { platformMessageId: "p1" }));
        await store.appendMessage(
          "s1",
          assistant("Calling the calculator", {
            parts: [{ type: "text", text: "Calling the calculator" }],
            toolCalls: [
              { id: "t1", name: "calc", arguments: { expr: "2+2" } },
              { id: "t2", name: "calc", arguments: { expr: "1" } },
            ],
            reasoning: "simple arithmetic",
            reasoningDetails: [{ type: "summary", text: "sum" }],
            usage: { inputTokens: 100, outputTokens: 20, costUsd: 0.25 },
          }),
        );
        await store.appendMessage("s1", {
          role: "tool",
          content: "4",
          toolName: "calc",
          toolCallId: "t1",
          toolResults: { value: 4 },
          usage: { inputTokens: 5, outputTokens: 1, costUsd: 0.5 },
        });
        const messages = await store.getMessages("s1");
        expect(messages.map((message) => message.role)).toEqual(["user", "assistant", "tool"]);
        expect(messages[0]?.id).toBeLessThan(messages[1]?.id ?? 0);
        expect(messages[1]).toMatchObject({
          parts: [{ type: "text", text: "Calling the calculator" }],
          reasoning: "simple arithmetic",
          reasoningDetails: [{ type: "summary", text: "sum" }],
          active: true,
          compacted: false,
        });
        expect(messages[2]).toMatchObject({ toolName: "calc", toolCallId: "t1", toolResults: { value: 4 } });
        expect(messages[0]?.platformMessageId).toBe("p1");
        expect(await store.getSession("s1")).toMatchObject({
          messageCount: 3,
          toolCallCount: 2,
          inputTokens: 105,
          outputTokens: 21,
          costUsd: 0.75,
        });
        expect(await store.countMessages("s1")).toBe(3);
      });

      it("keeps exact counters when many appends race on one session", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        const results = await Promise.all(
          Array.from({ length: racers }, (_, i) =>
            store.appendMessage(
              "s1",
              assistant(`answer ${i}`, {
                toolCalls: [{ id: `t${i}` }],
                usage: { inputTokens: 3, outputTokens: 2 },
              }),
            ),
          ),
        );
        expect(new Set(results.map((result) => result.messageId)).size).toBe(racers);
        expect(await store.getSession("s1")).toMatchObject({
          messageCount: racers,
          toolCallCount: racers,
          inputTokens: 3 * racers,
          outputTokens: 2 * racers,
        });
        expect(await store.countMessages("s1")).toBe(racers);
      });

      it("stores a redelivered platform message once, even when the deliveries race", async () => {
        await store.createSession({ id: "s1", source: "telegram" });
        const results = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.appendMessage("s1", user("hi", { platformMessageId: "upd-7" })),
          ),
        );
        expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
        expect(new Set(results.map((result) => result.messageId)).size).toBe(1);
        expect(await store.hasPlatformMessageId("s1", "upd-7")).toBe(true);
        expect(await store.hasPlatformMessageId("s1", "upd-8")).toBe(false);
        expect((await store.getSession("s1"))?.messageCount).toBe(1);
      });

      it("replaces the transcript and recounts", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        await store.appendMessage("s1", user("one"));
        await store.appendMessage("s1", assistant("two", { toolCalls: [{ id: "x" }] }));
        const count = await store.replaceMessages("s1", [user("summary"), assistant("ok")]);
        expect(count).toBe(2);
        expect((await store.getMessages("s1")).map((message) => message.content)).toEqual(["summary", "ok"]);
        expect(await store.getSession("s1")).toMatchObject({ messageCount: 2, toolCallCount: 0 });
      });

      it("leaves the old transcript intact when a replacement fails part-way", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        await store.appendMessage("s1", user("keep me"));
        await store.appendMessage("s1", assistant("and me"));
        const before = await store.getMessages("s1");
        // The duplicate platform id is only caught by the database, after the old rows were deleted
        // inside the transaction.
        const failed = store.replaceMessages("s1", [
          user("new 1", { platformMessageId: "dup" }),
          user("new 2", { platformMessageId: "dup" }),
        ]);
        expect(await codeOf(failed)).toBe("CONFLICT");
        expect(await store.getMessages("s1")).toEqual(before);
        expect((await store.getSession("s1"))?.messageCount).toBe(2);

        const small = await makeStore({ maxMessageBytes: 64 });
        expect(await codeOf(small.replaceMessages("s1", [user("short"), user("x".repeat(65))]))).toBe(
          "CONTENT_TOO_LARGE",
        );
        expect(await store.getMessages("s1")).toEqual(before);
      });

      it("rewinds to a user message, keeps the rows for audit and restores them", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        await store.appendMessage("s1", user("first question"));
        await store.appendMessage("s1", assistant("first answer"));
        const second = await store.appendMessage("s1", {
          role: "user",
          parts: [
            { type: "text", text: "second" },
            { type: "image", url: "x" },
            { type: "text", text: "question" },
          ],
        });
        await store.appendMessage("s1", assistant("second answer", { toolCalls: [{ id: "t" }] }));
        await store.appendMessage("s1", { role: "tool", content: "result", toolCallId: "t" });

        const recent = await store.listRecentUserMessages("s1", 10);
        expect(recent.map((message) => message.content)).toEqual(["second\nquestion", "first question"]);

        const rewind = await store.rewindToUserMessage("s1", second.messageId);
        expect(rewind).toEqual({
          rewoundCount: 3,
          targetMessageId: second.messageId,
          targetText: "second\nquestion",
        });
        expect((await store.getMessages("s1")).map((message) => message.content)).toEqual([
          "first question",
          "first answer",
        ]);
        const all = await store.getMessages("s1", { includeInactive: true });
        expect(all.filter((message) => !message.active)).toHaveLength(3);
        expect(await store.getSession("s1")).toMatchObject({ messageCount: 2, toolCallCount: 0 });

        expect(await store.restoreRewound("s1")).toBe(3);
        expect(await store.getMessages("s1")).toHaveLength(5);
        expect(await store.getSession("s1")).toMatchObject({ messageCount: 5, toolCallCount: 1 });
      });

      it("restores nothing once the conversation moved on after a rewind", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        await store.appendMessage("s1", user("a"));
        const b = await store.appendMessage("s1", user("b"));
        await store.rewindToUserMessage("s1", b.messageId);
        await store.appendMessage("s1", user("c"));
        expect(await store.restoreRewound("s1")).toBe(0);
        expect((await store.getMessages("s1")).map((message) => message.content)).toEqual(["a", "c"]);
      });

      it("refuses to rewind to a message that is not an active user message", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        await store.appendMessage("s1", user("a"));
        const answer = await store.appendMessage("s1", assistant("b"));
        expect(await codeOf(store.rewindToUserMessage("s1", answer.messageId))).toBe("NOT_FOUND");
        expect(await codeOf(store.rewindToUserMessage("s1", answer.messageId + 1000))).toBe("NOT_FOUND");
        expect(await store.countMessages("s1")).toBe(2);
      });

      it("marks messages compacted and never restores them", async () => {
        await store.createSession({ id: "s1", source: "cli" });
        const a = await store.appendMessage("s1", user("a"));
        await store.appendMessage("s1", assistant("b"));
        expect(await store.markCompacted("s1", a.messageId)).toBe(1);
        const messages = await store.getMessages("s1");
        expect(messages.map((message) => message.compacted)).toEqual([true, false]);
      });
    });

    describe("platform message ids per session key", () => {
      const keyed = (id: string, sessionKey: string) =>
        store.createSession({ id, source: "telegram", sessionKey, chatId: "c1", userId: "u1" });
      const rowsWith = async (sessionIds: readonly string[], platformId: string) => {
        let count = 0;
        for (const id of sessionIds) {
          const messages = await store.getMessages(id, { includeInactive: true });
          count += messages.filter((message) => message.platformMessageId === platformId).length;
        }
        return count;
      };

      it("stores an id once per session key, over all of the key's sessions", async () => {
        await keyed("first", "k1");
        const stored = await store.appendMessage("first", user("x", { platformMessageId: "M" }));
        expect(stored.duplicate).toBe(false);
        // `/new`: the key moves on to a fresh session, and the client retries M there.
        await store.endSession("first", "session_reset");
        await keyed("second", "k1");
        const retried = await store.appendMessage("second", user("x", { platformMessageId: "M" }));
        expect(retried).toMatchObject({
          duplicate: true,
          messageId: stored.messageId,
          existingSessionId: "first",
        });
        expect(retried.session).toBeUndefined();
        expect(await store.getSession("second")).toMatchObject({ messageCount: 0 });
        expect(await rowsWith(["first", "second"], "M")).toBe(1);
      });

      it("keeps the ids of different keys, and of sessions without a key, apart", async () => {
        await keyed("a", "k1");
        await keyed("b", "k2");
        await store.createSession({ id: "loose-1", source: "web" });
        await store.createSession({ id: "loose-2", source: "web" });
        for (const id of ["a", "b", "loose-1", "loose-2"]) {
          expect((await store.appendMessage(id, user("x", { platformMessageId: "M" }))).duplicate).toBe(
            false,
          );
        }
        // Without a key the id is unique per session only.
        expect(await store.appendMessage("loose-1", user("x", { platformMessageId: "M" }))).toMatchObject({
          duplicate: true,
          existingSessionId: "loose-1",
        });
        expect((await store.findPlatformMessage("k2", "M"))?.sessionId).toBe("b");
      });

      it("lets exactly one of many racing appends of an id win, whichever of the key's sessions they target", async () => {
        const sessions = ["r1", "r2", "r3"];
        for (const id of sessions) await keyed(id, "race-key");
        for (let round = 0; round < 5; round++) {
          const platformId = `retry-${round}`;
          const results = await Promise.all(
            Array.from({ length: racers }, (_, i) =>
              store.appendMessage(
                sessions[i % sessions.length]!,
                user(`x${round}`, { platformMessageId: platformId }),
              ),
            ),
          );
          const winners = results.filter((result) => !result.duplicate);
          expect(winners).toHaveLength(1);
          const winner = await store.findPlatformMessage("race-key", platformId);
          expect(winner?.messageId).toBe(winners[0]?.messageId);
          for (const result of results.filter((r) => r.duplicate)) {
            expect(result).toMatchObject({
              messageId: winner?.messageId,
              existingSessionId: winner?.sessionId,
            });
          }
          expect(await rowsWith(sessions, platformId)).toBe(1);
        }
        let total = 0;
        for (const id of sessions) total += (await store.getSession(id))?.messageCount ?? 0;
        expect(total).toBe(5);
      });

      it("finds where an id was delivered and the reply that followed it", async () => {
        await keyed("s1", "k1");
        const asked = await store.appendMessage("s1", user("question", { platformMessageId: "m1" }));
        expect(await store.findPlatformMessage("k1", "m1")).toMatchObject({
          sessionKey: "k1",
          platformMessageId: "m1",
          sessionId: "s1",
          messageId: asked.messageId,
          reply: null,
        });
        // A restart continuation: a system note, then the answer.
        await store.appendMessage("s1", { role: "system", content: "[continue]" });
        const answered = await store.appendMessage("s1", assistant("the answer"));
        await store.appendMessage("s1", assistant("an afterthought"));
        const found = await store.findPlatformMessage("k1", "m1");
        expect(found?.reply).toMatchObject({ messageId: answered.messageId, text: "the answer" });
        expect(typeof found?.receivedAt).toBe("number");
        // An unanswered message: the next user message ends the search for its reply.
        await store.appendMessage("s1", user("lost", { platformMessageId: "m2" }));
        await store.appendMessage("s1", user("next", { platformMessageId: "m3" }));
        await store.appendMessage("s1", assistant("only for m3"));
        expect((await store.findPlatformMessage("k1", "m2"))?.reply).toBeNull();
        expect((await store.findPlatformMessage("k1", "m3"))?.reply?.text).toBe("only for m3");
        expect(await store.findPlatformMessage("k1", "never")).toBeUndefined();
        expect(await store.findPlatformMessage("k2", "m1")).toBeUndefined();
      });

      it("keeps the original reply after a rewind and after the key moved to a new session", async () => {
        await keyed("old", "k1");
        const asked = await store.appendMessage("old", user("x", { platformMessageId: "M" }));
        await store.appendMessage("old", assistant("original reply"));
        await store.rewindToUserMessage("old", asked.messageId);
        await store.endSession("old", "session_reset");
        await keyed("new", "k1");
        expect((await store.appendMessage("new", user("x", { platformMessageId: "M" }))).duplicate).toBe(
          true,
        );
        const found = await store.findPlatformMessage("k1", "M");
        expect(found).toMatchObject({ sessionId: "old", reply: { text: "original reply" } });
      });

      it("does not count transcript copies as deliveries", async () => {
        await keyed("parent", "k1");
        await store.appendMessage("parent", user("x", { platformMessageId: "M" }));
        await store.appendMessage("parent", assistant("reply"));
        // A branch copies the parent's messages, platform ids included, into a session of the same key.
        await keyed("branch", "k1");
        await store.replaceMessages("branch", await store.getMessages("parent"));
        expect((await store.findPlatformMessage("k1", "M"))?.sessionId).toBe("parent");
        expect(await store.appendMessage("branch", user("x", { platformMessageId: "M" }))).toMatchObject({
          duplicate: true,
          existingSessionId: "parent",
        });
        // A copy the key never received: a later delivery is a duplicate of the copy, recorded from then on.
        await keyed("imported", "k2");
        await store.replaceMessages("imported", [user("old", { platformMessageId: "I" })]);
        expect(await store.findPlatformMessage("k2", "I")).toBeUndefined();
        expect(await store.appendMessage("imported", user("old", { platformMessageId: "I" }))).toMatchObject({
          duplicate: true,
          existingSessionId: "imported",
        });
        expect((await store.findPlatformMessage("k2", "I"))?.sessionId).toBe("imported");
        expect(await store.getSession("imported")).toMatchObject({ messageCount: 1 });
      });

      it("forgets the deliveries of a pruned session", async () => {
        await keyed("gone", "k1");
        await store.appendMessage("gone", user("x", { platformMessageId: "M" }));
        await store.endSession("gone", "session_reset");
        clock.advance(10 * 86_400_000);
        expect(await store.pruneEndedSessions(clock.now())).toBe(1);
        expect(await store.findPlatformMessage("k1", "M")).toBeUndefined();
        await keyed("later", "k1");
        expect((await store.appendMessage("later", user("x", { platformMessageId: "M" }))).duplicate).toBe(
          false,
        );
      });

      it("refuses a malformed key or id", async () => {
        expect(await codeOf(store.findPlatformMessage("", "M"))).toBe("INVALID_ID");
        expect(await codeOf(store.findPlatformMessage("../k", "M"))).toBe("INVALID_ID");
        expect(await codeOf(store.findPlatformMessage("k1", ""))).toBe("INVALID_ARGUMENT");
      });
    });

    describe("bad input writes nothing", () => {
      it("rejects unsafe session ids", async () => {
        for (const id of ["../etc", "a/b", "a\\b", "C:x", "", ".hidden", "x\u0000y"]) {
          expect(await codeOf(store.createSession({ id, source: "cli" }))).toBe("INVALID_ID");
          expect(await codeOf(store.appendMessage(id, user("x")))).toBe("INVALID_ID");
        }
        expect(await store.countSessions({})).toBe(0);
      });

      it("reports an unknown session and creates nothing", async () => {
        expect(await codeOf(store.appendMessage("ghost", user("x")))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.endSession("ghost", "session_reset"))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.reopenSession("ghost"))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.replaceMessages("ghost", [user("x")]))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.rewindToUserMessage("ghost", 1))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.restoreRewound("ghost"))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.recordPeer("ghost", { source: "cli" }))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.updateSession("ghost", { pinned: true }))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.deleteSession("ghost"))).toBe("SESSION_NOT_FOUND");
        expect(await store.countSessions({})).toBe(0);
        expect(await store.countMessages("ghost", { includeInactive: true })).toBe(0);
      });

      it("rejects oversized content and malformed messages without touching counters", async () => {
        const small = await makeStore({ maxMessageBytes: 16 });
        await small.createSession({ id: "s1", source: "cli" });
        // 6 characters of 3 UTF-8 bytes each: 18 bytes, over a 16-byte limit.
        expect(await codeOf(small.appendMessage("s1", user("€€€€€€")))).toBe("CONTENT_TOO_LARGE");
        expect(await codeOf(small.appendMessage("s1", assistant("", { toolCalls: ["x".repeat(20)] })))).toBe(
          "CONTENT_TOO_LARGE",
        );
        expect(await codeOf(small.appendMessage("s1", { role: "wizard" as never, content: "hi" }))).toBe(
          "INVALID_ARGUMENT",
        );
        expect(await codeOf(small.appendMessage("s1", user("hi", { usage: { inputTokens: -1 } })))).toBe(
          "INVALID_ARGUMENT",
        );
        expect(await small.countMessages("s1", { includeInactive: true })).toBe(0);
        expect(await small.getSession("s1")).toMatchObject({ messageCount: 0, inputTokens: 0 });
        await small.appendMessage("s1", user("€€€€€"));
        expect(await small.countMessages("s1")).toBe(1);
      });
    });

    describe("compression lineage", () => {
      it("continues a session in a child that inherits the peer and ends the parent", async () => {
        await store.createSession({ id: "p", source: "telegram", userId: "u", sessionKey: "k", model: "m" });
        const child = await store.startCompressionContinuation("p", { id: "c" });
        expect(child).toMatchObject({
          id: "c",
          parentSessionId: "p",
          source: "telegram",
          userId: "u",
          sessionKey: "k",
          model: "m",
        });
        expect(await store.getSession("p")).toMatchObject({ endReason: "compression" });
        expect(await store.getCompressionTip("p")).toBe("c");
      });

      it("follows a three-level chain to its tip from any level", async () => {
        await store.createSession({ id: "a", source: "cli" });
        await store.startCompressionContinuation("a", { id: "b" });
        await store.startCompressionContinuation("b", { id: "c" });
        expect(await store.getCompressionTip("a")).toBe("c");
        expect(await store.getCompressionTip("b")).toBe("c");
        expect(await store.getCompressionTip("c")).toBe("c");
        expect(await store.getCompressionTip("unknown")).toBeUndefined();
      });

      it("does not follow children of a parent that ended for another reason", async () => {
        await store.createSession({ id: "a", source: "cli" });
        await store.createSession({ id: "branch", source: "cli", parentSessionId: "a" });
        expect(await store.getCompressionTip("a")).toBe("a");
        await store.endSession("a", "session_reset");
        expect(await store.getCompressionTip("a")).toBe("a");
        expect(await codeOf(store.startCompressionContinuation("a", { id: "late" }))).toBe("CONFLICT");
        expect(await store.getSession("late")).toBeUndefined();
      });

      it("stops on a lineage cycle", async () => {
        await store.createSession({ id: "a", source: "cli" });
        await store.startCompressionContinuation("a", { id: "b" });
        await store.startCompressionContinuation("b", { id: "c" });
        await store.endSession("c", "compression");
        // Corrupt lineage through the public API: re-creating "a" fills its empty parent column.
        await store.createSession({ id: "a", source: "cli", parentSessionId: "c" }); // a -> b -> c -> a
        const tip = await store.getCompressionTip("a");
        expect(tip).toBe("c");
        expect(await store.getCompressionTip("b")).toBe("a");
      });
    });

    describe("peer recovery", () => {
      const peer = { source: "telegram", sessionKey: "agent:main:telegram:dm:42", userId: "42" };

      it("returns the peer's open session", async () => {
        await store.createSession({ id: "s1", ...peer });
        expect((await store.findLatestSessionForPeer(peer))?.id).toBe("s1");
        expect(await store.findLatestSessionForPeer({ ...peer, sessionKey: "other" })).toBeUndefined();
        expect(await store.findLatestSessionForPeer({ ...peer, source: "discord" })).toBeUndefined();
      });

      it("recovers a session ended only by gateway cleanup", async () => {
        await store.createSession({ id: "s1", ...peer });
        await store.endSession("s1", GATEWAY_END_REASONS.agentClose);
        expect((await store.findLatestSessionForPeer(peer))?.id).toBe("s1");
      });

      it("ignores sessions the user ended, even when an older one is recoverable", async () => {
        await store.createSession({ id: "old", ...peer, startedAt: START });
        await store.endSession("old", GATEWAY_END_REASONS.agentClose);
        await store.createSession({ id: "new", ...peer, startedAt: START + 60_000 });
        await store.endSession("new", GATEWAY_END_REASONS.sessionReset);
        expect(await store.findLatestSessionForPeer(peer)).toBeUndefined();
        await store.endSession("new", GATEWAY_END_REASONS.agentClose); // first writer already won
        expect(await store.findLatestSessionForPeer(peer)).toBeUndefined();
      });

      it("finds a session by the peer recorded later", async () => {
        await store.createSession({ id: "s1", source: "telegram" });
        await store.recordPeer("s1", peer);
        expect(await store.getSession("s1")).toMatchObject({ sessionKey: peer.sessionKey, userId: "42" });
        expect((await store.findLatestSessionForPeer(peer))?.id).toBe("s1");
      });

      it("needs a session key or a user id", async () => {
        expect(await codeOf(store.findLatestSessionForPeer({ source: "telegram" }))).toBe("INVALID_ARGUMENT");
      });
    });

    describe("search and listing", () => {
      async function seed(): Promise<void> {
        await store.createSession({ id: "alice-1", source: "telegram", userId: "alice", title: "Trip" });
        await store.createSession({ id: "bob-1", source: "telegram", userId: "bob" });
        await store.createSession({ id: "web-1", source: "web", userId: "alice" });
        await store.appendMessage("alice-1", user("Book the flight to Lisbon for the conference"));
        await store.appendMessage("alice-1", assistant("The Lisbon flight is booked for Monday"));
        await store.appendMessage("bob-1", user("What is the weather in Lisbon"));
        await store.appendMessage("web-1", user("Lisbon restaurants near the river"));
      }

      it("finds matching active messages within the caller's scope only", async () => {
        await seed();
        const alice = await store.searchMessages({
          query: "lisbon",
          scope: { source: "telegram", userId: "alice" },
        });
        expect(alice.map((hit) => hit.sessionId).sort()).toEqual(["alice-1", "alice-1"]);
        expect(alice[0]?.snippet.toLowerCase()).toContain("lisbon");
        const telegram = await store.searchMessages({ query: "lisbon", scope: { source: "telegram" } });
        expect(new Set(telegram.map((hit) => hit.sessionId))).toEqual(new Set(["alice-1", "bob-1"]));
        const everywhere = await store.searchMessages({ query: "lisbon", scope: {} });
        expect(everywhere).toHaveLength(4);
        const inSession = await store.searchMessages({ query: "flight", scope: {}, sessionId: "alice-1" });
        expect(inSession).toHaveLength(2);
        expect(await store.searchMessages({ query: "weather", scope: { userId: "alice" } })).toEqual([]);
      });

      it("hides rewound messages and deleted sessions from search", async () => {
        await seed();
        const recent = await store.listRecentUserMessages("alice-1", 1);
        await store.rewindToUserMessage("alice-1", recent[0]!.id);
        expect(await store.searchMessages({ query: "flight", scope: {} })).toEqual([]);
        await store.deleteSession("bob-1");
        expect(await store.searchMessages({ query: "weather", scope: {} })).toEqual([]);
      });

      it("lists sessions with previews, pinned first, scoped and without archived ones", async () => {
        await seed();
        await store.appendMessage("alice-1", assistant("x".repeat(500)));
        await store.createSession({ id: "empty", source: "telegram", userId: "alice" });
        await store.createSession({ id: "archived", source: "telegram", userId: "alice" });
        await store.updateSession("archived", { archived: true });
        await store.updateSession("alice-1", { pinned: true });

        const items = await store.listSessions({
          scope: { source: "telegram", userId: "alice" },
          previewChars: 40,
        });
        expect(items.map((item) => item.session.id)).toEqual(["alice-1", "empty"]);
        const first = items[0]!;
        expect(first.firstUserMessage).toBe("Book the flight to Lisbon for the confer");
        expect(first.lastMessage).toMatchObject({ role: "assistant", snippet: "x".repeat(40) });
        expect(first.session.messageCount).toBe(3);
        expect(items[1]).toMatchObject({ firstUserMessage: null, lastMessage: null });

        const withArchived = await store.listSessions({ scope: { userId: "alice" }, includeArchived: true });
        expect(withArchived.map((item) => item.session.id).sort()).toEqual([
          "alice-1",
          "archived",
          "empty",
          "web-1",
        ]);
        expect(await store.countSessions({ source: "telegram", userId: "alice" })).toBe(2);
        expect(await store.countSessions({ userId: "alice" }, { includeArchived: true })).toBe(4);
        expect(await store.countSessions({})).toBe(4);

        const page = await store.listSessions({ scope: {}, limit: 2, offset: 1 });
        expect(page).toHaveLength(2);
      });

      it("scopes lists and counts to sessions routed by a session key, or to the others", async () => {
        await store.createSession({
          id: "routed-1",
          source: "telegram",
          sessionKey: "agent:main:telegram:dm:1",
        });
        await store.createSession({
          id: "routed-2",
          source: "discord",
          sessionKey: "agent:main:discord:dm:2",
        });
        await store.createSession({ id: "plain-web", source: "web" });
        await store.createSession({ id: "plain-cli", source: "cli" });
        const routed = await store.listSessions({ scope: { routed: true } });
        expect(routed.map((item) => item.session.id).sort()).toEqual(["routed-1", "routed-2"]);
        const plain = await store.listSessions({ scope: { routed: false } });
        expect(plain.map((item) => item.session.id).sort()).toEqual(["plain-cli", "plain-web"]);
        expect(await store.countSessions({ routed: true, source: "discord" })).toBe(1);
      });

      it("scopes lists and counts to one session key, so a chat sees only its own sessions", async () => {
        const key = "agent:main:telegram:group:9:alice";
        await store.createSession({ id: "alice-a", source: "telegram", sessionKey: key });
        await store.createSession({ id: "alice-b", source: "telegram", sessionKey: key });
        await store.createSession({
          id: "bob-a",
          source: "telegram",
          sessionKey: "agent:main:telegram:group:9:bob",
        });
        await store.createSession({ id: "web-a", source: "web" });
        const own = await store.listSessions({ scope: { sessionKey: key } });
        expect(own.map((item) => item.session.id).sort()).toEqual(["alice-a", "alice-b"]);
        expect(await store.countSessions({ sessionKey: key })).toBe(2);
      });

      it("can leave ended sessions out of the list", async () => {
        await seed();
        await store.endSession("bob-1", "session_reset");
        const open = await store.listSessions({ scope: { source: "telegram" }, includeEnded: false });
        expect(open.map((item) => item.session.id)).toEqual(["alice-1"]);
      });
    });

    describe("pruning", () => {
      it("deletes unpinned sessions that ended before the cutoff, with their messages", async () => {
        await store.createSession({ id: "old", source: "cli" });
        await store.appendMessage("old", user("bye"));
        await store.endSession("old", "session_reset");
        await store.createSession({ id: "pinned", source: "cli" });
        await store.updateSession("pinned", { pinned: true });
        await store.endSession("pinned", "session_reset");
        await store.createSession({ id: "open", source: "cli" });
        clock.advance(10 * 86_400_000);
        await store.createSession({ id: "recent", source: "cli" });
        await store.endSession("recent", "session_reset");

        const cutoff = clock.now() - 86_400_000;
        expect(await store.pruneEndedSessions(cutoff)).toBe(1);
        expect(await store.getSession("old")).toBeUndefined();
        expect(await store.countMessages("old", { includeInactive: true })).toBe(0);
        for (const id of ["pinned", "open", "recent"]) expect(await store.getSession(id)).toBeDefined();
      });
    });
  });
}
