import {
  type Clock,
  InMemoryRoutingIndex,
  InMemoryTranscriptStore,
  MemoryCommitCoordinator,
} from "@engram/core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { SessionRouter } from "../routing/session-router.js";
import { manualClock } from "../routing/test-support/session-router.scenarios.js";
import { EchoTurnRunner } from "./echo-turn-runner.js";
import { SessionTurnHandler } from "./session-turn-handler.js";
import type { TurnInput, TurnOutput } from "./turn-runner.js";

/** Echo runner whose turns can be held open, and which records overlapping turns per key. */
class ProbeRunner extends EchoTurnRunner {
  readonly running = new Map<string, number>();
  overlapped = false;
  override async runTurn(input: TurnInput): Promise<TurnOutput> {
    const now = (this.running.get(input.sessionKey) ?? 0) + 1;
    this.running.set(input.sessionKey, now);
    if (now > 1) this.overlapped = true;
    try {
      return await super.runTurn(input);
    } finally {
      this.running.set(input.sessionKey, (this.running.get(input.sessionKey) ?? 1) - 1);
    }
  }
}

const source = { platform: "telegram", chatId: "42", chatType: "dm", userId: "42" };
const jitter = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));

describe("SessionTurnHandler", () => {
  let clock: Clock & { advance(ms: number): void };
  let transcripts: InMemoryTranscriptStore;
  let routingIndex: InMemoryRoutingIndex;
  let coordinator: MemoryCommitCoordinator;
  let runner: ProbeRunner;
  let handler: SessionTurnHandler;

  beforeEach(() => {
    clock = manualClock(Date.UTC(2026, 0, 10, 12));
    transcripts = new InMemoryTranscriptStore({ clock });
    routingIndex = new InMemoryRoutingIndex({ clock });
    coordinator = new MemoryCommitCoordinator({ clock });
    runner = new ProbeRunner();
    const router = new SessionRouter({
      routingIndex,
      transcripts,
      clock,
      resetPolicies: { default: { mode: "idle", atHour: 4, idleMinutes: 60 } },
    });
    handler = new SessionTurnHandler({ router, routingIndex, transcripts, runner, coordinator });
  });

  const contents = async (sessionId: string) =>
    (await transcripts.getMessages(sessionId)).map((m) => `${m.role}:${m.content}`);

  it("reuses a session's transcript between its turns, but reads it again after anyone else wrote to it", async () => {
    const reads = vi.spyOn(transcripts, "getMessages");
    const first = await handler.handle({ source, text: "one" });
    await handler.handle({ source, text: "two" });
    expect(runner.inputs.at(-1)?.history.map((m) => m.content)).toEqual(["one", "echo: one"]);
    // The second turn's history came from memory: only the first turn read the transcript.
    expect(reads).toHaveBeenCalledTimes(1);
    // Another process appends to the session, then (later) rewinds it and appends again.
    clock.advance(1000);
    await transcripts.appendMessage(first.sessionId, { role: "user", content: "from elsewhere" });
    await handler.handle({ source, text: "three" });
    expect(runner.inputs.at(-1)?.history.map((m) => m.content)).toEqual([
      "one",
      "echo: one",
      "two",
      "echo: two",
      "from elsewhere",
    ]);
    clock.advance(1000);
    const [newest] = await transcripts.listRecentUserMessages(first.sessionId, 1);
    await transcripts.rewindToUserMessage(first.sessionId, newest?.id ?? 0);
    clock.advance(1000);
    await transcripts.appendMessage(first.sessionId, { role: "user", content: "rewritten" });
    await transcripts.appendMessage(first.sessionId, { role: "assistant", content: "elsewhere's reply" });
    await handler.handle({ source, text: "four" });
    expect(
      runner.inputs
        .at(-1)
        ?.history.map((m) => m.content)
        .slice(-3),
    ).toEqual(["from elsewhere", "rewritten", "elsewhere's reply"]);
  });

  it("queues a message that arrives during a turn and runs it after, never dropped or doubled", async () => {
    let release!: () => void;
    runner.hold = (input) =>
      input.text === "first"
        ? new Promise<void>((resolve) => {
            release = resolve;
          })
        : Promise.resolve();
    const first = handler.handle({ source, text: "first" });
    while (!release) await new Promise((resolve) => setImmediate(resolve));
    const second = handler.handle({ source, text: "second" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(handler.queueDepth).toBe(2);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.reply).toBe("echo: first");
    expect(b.reply).toBe("echo: second");
    expect(await contents(a.sessionId)).toEqual([
      "user:first",
      "assistant:echo: first",
      "user:second",
      "assistant:echo: second",
    ]);
  });

  it("runs bursts on one key one turn at a time and keeps every message in arrival order", async () => {
    runner.hold = jitter;
    const replies = await Promise.all(
      Array.from({ length: 25 }, (_, i) => handler.handle({ source, text: `m${i}`, messageId: `p${i}` })),
    );
    expect(runner.overlapped).toBe(false);
    expect(replies.map((r) => r.reply)).toEqual(Array.from({ length: 25 }, (_, i) => `echo: m${i}`));
    const stored = await contents(replies[0]!.sessionId);
    expect(stored).toHaveLength(50);
    expect(stored.filter((c) => c.startsWith("user:"))).toEqual(
      Array.from({ length: 25 }, (_, i) => `user:m${i}`),
    );
  });

  it("keeps the arrival order of messages with platform ids even when their dedupe lookups answer out of order", async () => {
    // The store's real behaviour, with the latency of a pooled database: later lookups may finish first.
    const slow = new (class extends InMemoryTranscriptStore {
      override async findPlatformMessage(sessionKey: string, platformMessageId: string) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
        return super.findPlatformMessage(sessionKey, platformMessageId);
      }
    })({ clock });
    const router = new SessionRouter({ routingIndex, transcripts: slow, clock });
    const h = new SessionTurnHandler({ router, routingIndex, transcripts: slow, runner, coordinator });
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => h.handle({ source, text: `m${i}`, messageId: `p${i}` })),
    );
    const stored = (await slow.getMessages(replies[0]!.sessionId)).filter((m) => m.role === "user");
    expect(stored.map((m) => m.content)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
  });

  it("runs repeats of a platform message id once, even when they race, and answers each with the reply", async () => {
    runner.hold = jitter;
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => handler.handle({ source, text: "hello", messageId: 777 })),
    );
    expect(replies.map((r) => r.reply)).toEqual(Array.from({ length: 6 }, () => "echo: hello"));
    expect(replies.filter((r) => r.duplicate)).toHaveLength(5);
    expect(runner.inputs).toHaveLength(1);
    expect(await contents(replies[0]!.sessionId)).toEqual(["user:hello", "assistant:echo: hello"]);
  });

  it("answers a platform retry that arrives after its session expired from that session, resetting nothing", async () => {
    const first = await handler.handle({ source, text: "hello", messageId: "m1" });
    clock.advance(2 * 60 * 60_000);
    const retry = await handler.handle({ source, text: "hello", messageId: "m1" });
    expect(retry).toEqual({
      sessionId: first.sessionId,
      sessionKey: first.sessionKey,
      reply: "echo: hello",
      duplicate: true,
    });
    expect((await routingIndex.get(first.sessionKey))?.sessionId).toBe(first.sessionId);
    // The next new message is what resets the idle session.
    const next = await handler.handle({ source, text: "new day", messageId: "m2" });
    expect(next.autoReset).toEqual({ reason: "idle", hadActivity: true });
    expect(next.sessionId).not.toBe(first.sessionId);
  });

  it("records completed turns without committing memory per turn", async () => {
    const reply = await handler.handle({ source, text: "one" });
    await handler.handle({ source, text: "two" });
    expect(await coordinator.hasUncommittedWork(reply.sessionId)).toBe(true);
    expect(runner.commitsOf(reply.sessionId)).toBe(0);
  });

  it("commits the old session's memory when an idle reset leaves it", async () => {
    const first = await handler.handle({ source, text: "one" });
    clock.advance(2 * 60 * 60_000);
    const second = await handler.handle({ source, text: "two" });
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.autoReset).toEqual({ reason: "idle", hadActivity: true });
    expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
    expect(await coordinator.hasUncommittedWork(second.sessionId)).toBe(true);
  });

  it("starts over on /new: commits the old session, ends it with session_reset and reports the switch", async () => {
    const first = await handler.handle({ source, text: "one" });
    const agent = runner.agentFor(first.sessionId) as unknown as { commits: number };
    const reset = await handler.handle({ source, text: "/new" });
    expect(reset.sessionId).not.toBe(first.sessionId);
    expect(agent.commits).toBe(1);
    expect((await transcripts.getSession(first.sessionId))?.endReason).toBe("session_reset");
    expect(runner.switches).toEqual([
      {
        newSessionId: reset.sessionId,
        source: expect.objectContaining(source),
        parentSessionId: first.sessionId,
        reset: true,
        reason: "new_session",
      },
    ]);
    const next = await handler.handle({ source, text: "after" });
    expect(next.sessionId).toBe(reset.sessionId);
  });

  it("resumes an earlier session of the same chat on /resume <id>, committing the one it leaves", async () => {
    const first = await handler.handle({ source, text: "one" });
    const fresh = await handler.handle({ source, text: "/new" });
    await handler.handle({ source, text: "two" });
    const resumed = await handler.handle({ source, text: `/resume ${first.sessionId}` });
    expect(resumed.sessionId).toBe(first.sessionId);
    expect((await transcripts.getSession(fresh.sessionId))?.endReason).toBe("session_switch");
    expect(await coordinator.hasUncommittedWork(fresh.sessionId)).toBe(false);
    expect(runner.switches.at(-1)).toEqual({
      newSessionId: first.sessionId,
      source: expect.objectContaining(source),
      parentSessionId: fresh.sessionId,
      reset: false,
      reason: "resume",
    });
    expect((await handler.handle({ source, text: "three" })).sessionId).toBe(first.sessionId);
    const stranger = { ...source, chatId: "99", userId: "99" };
    await expect(
      handler.handle({ source: stranger, text: `/resume ${first.sessionId}` }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("keeps a failed boundary commit's work, counts it as failed and still answers the turn", async () => {
    const commits: string[] = [];
    const resets: string[] = [];
    const failing = new (class extends ProbeRunner {
      override agentFor() {
        return {
          commitMemorySession: () => {
            throw new Error("provider down");
          },
        };
      }
    })();
    const router = new SessionRouter({
      routingIndex,
      transcripts,
      clock,
      resetPolicies: { default: { mode: "idle", atHour: 4, idleMinutes: 60 } },
    });
    const h = new SessionTurnHandler({
      router,
      routingIndex,
      transcripts,
      runner: failing,
      coordinator,
      observer: { commit: (result) => commits.push(result), reset: (reason) => resets.push(reason) },
    });
    const first = await h.handle({ source, text: "one" });
    const reset = await h.handle({ source, text: "/new" });
    expect(reset.sessionId).not.toBe(first.sessionId);
    expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(true);
    expect(commits).toEqual(["failed"]);
    expect(resets).toEqual(["explicit"]);
  });

  it("clears the resume mark after a resumed turn completes", async () => {
    const first = await handler.handle({ source, text: "one" });
    await routingIndex.markResumePending(first.sessionKey, "restart_interrupted");
    const resumed = await handler.handle({ source, text: "two" });
    expect(resumed.sessionId).toBe(first.sessionId);
    expect((await routingIndex.get(first.sessionKey))?.resumePending).toBe(false);
  });

  // Regression (issue 13, item 5): a kill between saving a reply and marking its turn left a completed
  // turn the ledger never counted; as the session's last turn, no commit ever took it to memory.
  it("records on restart a completed turn whose mark a crash cut off, so its memory is committed", async () => {
    const first = await handler.handle({ source, text: "one" });
    // The next turn's messages were saved, then the process died before markTurnCompleted.
    await transcripts.appendMessage(first.sessionId, { role: "user", content: "I always use tabs." });
    await transcripts.appendMessage(first.sessionId, { role: "assistant", content: "noted" });
    await coordinator.commitSessionMemory(first.sessionId);
    expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
    await routingIndex.markResumePending(first.sessionKey, "restart_interrupted");
    const entry = await routingIndex.get(first.sessionKey);
    if (!entry) throw new Error("no route");

    const outcome = await handler.continueInterrupted(entry, { note: "continue" });
    expect(outcome).toEqual({ status: "skipped", reason: "nothing_to_continue" });
    expect(await coordinator.generationOf(first.sessionId)).toBe(2);
    expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(true);
    // Counted once: a second restart finds nothing missing.
    await handler.continueInterrupted(entry, { note: "continue" });
    expect(await coordinator.generationOf(first.sessionId)).toBe(2);
    await handler.handle({ source, text: "/new" });
    expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
  });

  it("rejects malformed input with codes and writes nothing", async () => {
    await expect(handler.handle({ source, text: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      handler.handle({ source: { ...source, chatId: "../etc" }, text: "x" }),
    ).rejects.toMatchObject({
      code: "INVALID_ID",
    });
    await expect(handler.handle({ source, text: "x".repeat(64 * 1024 + 1) })).rejects.toMatchObject({
      code: "CONTENT_TOO_LARGE",
    });
    await expect(handler.handle({ source, text: "x", messageId: {} })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(await routingIndex.count()).toBe(0);
  });
});
