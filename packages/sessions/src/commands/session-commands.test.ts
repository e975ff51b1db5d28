// The gateway's session commands through the turn handler, on the in-memory reference stores (the
// same stores' Postgres and PGlite implementations pass the same conformance suites; the end-to-end
// suite drives these commands through the real executable).
import {
  type Clock,
  InMemoryRoutingIndex,
  InMemoryTranscriptStore,
  MemoryCommitCoordinator,
  type SessionSource,
} from "@engram/core";
import { RecordingMemoryProvider } from "@engram/testkit";
import { beforeEach, describe, expect, it } from "vitest";
import { SessionRouter } from "../routing/session-router.js";
import { manualClock } from "../routing/test-support/session-router.scenarios.js";
import { AgentTurnRunner } from "../turns/agent-turn-runner.js";
import { EchoTurnRunner } from "../turns/echo-turn-runner.js";
import { SessionTurnHandler, type SessionTurnHandlerProps } from "../turns/session-turn-handler.js";
import type { TurnRunner } from "../turns/turn-runner.js";

const alice: SessionSource = { platform: "telegram", chatId: "-100", chatType: "group", userId: "alice" };
const bob: SessionSource = { platform: "telegram", chatId: "-100", chatType: "group", userId: "bob" };
const waitFor = async (ready: () => boolean) => {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
};

describe("gateway session commands", () => {
  let clock: Clock & { advance(ms: number): void };
  let transcripts: InMemoryTranscriptStore;
  let routingIndex: InMemoryRoutingIndex;
  let coordinator: MemoryCommitCoordinator;
  let echo: EchoTurnRunner;
  let handler: SessionTurnHandler;

  const build = (runner: TurnRunner, extra: Partial<SessionTurnHandlerProps> = {}) => {
    const router = new SessionRouter({
      routingIndex,
      transcripts,
      clock,
      resetPolicies: { default: { mode: "idle", atHour: 4, idleMinutes: 60 } },
    });
    return new SessionTurnHandler({ router, routingIndex, transcripts, runner, coordinator, ...extra });
  };

  beforeEach(() => {
    clock = manualClock(Date.UTC(2026, 0, 10, 12));
    transcripts = new InMemoryTranscriptStore({ clock });
    routingIndex = new InMemoryRoutingIndex({ clock });
    coordinator = new MemoryCommitCoordinator({ clock });
    echo = new EchoTurnRunner();
    handler = build(echo);
  });

  const say = (text: string, source: SessionSource = alice) => handler.handle({ source, text });
  const contents = async (sessionId: string) =>
    (await transcripts.getMessages(sessionId)).map((m) => `${m.role}:${m.content}`);

  it("names the new session on /new <title>, and numbers a title already taken", async () => {
    const first = await say("/new Trip to Oslo");
    expect((await transcripts.getSession(first.sessionId))?.title).toBe("Trip to Oslo");
    const second = await say("/new Trip to Oslo");
    expect(second.sessionId).not.toBe(first.sessionId);
    expect((await transcripts.getSession(second.sessionId))?.title).toBe("Trip to Oslo #2");
  });

  it("lists only the caller's own sessions on /sessions, numbered and with the current one marked", async () => {
    const a1 = await say("/new Alpha");
    await say("hello");
    clock.advance(1000);
    const a2 = await say("/new Beta");
    await say("hi from bob", bob);
    const listed = await say("/sessions");
    expect(listed.reply).toContain("1. Beta");
    expect(listed.reply).toContain(`${a2.sessionId}, 0 messages (current)`);
    expect(listed.reply).toContain(`2. Alpha — ${a1.sessionId}, 2 messages`);
    expect(listed.reply).not.toContain("bob");
    const bobs = await say("/sessions", bob);
    expect(bobs.reply).not.toContain(a1.sessionId);
    expect(bobs.reply).not.toContain(a2.sessionId);
  });

  it("resumes by list number and by title, and refuses another user's session with NOT_FOUND", async () => {
    const alpha = await say("/new Alpha");
    await say("remember alpha");
    clock.advance(1000);
    const beta = await say("/new Beta");
    expect((await say("/resume 2")).sessionId).toBe(alpha.sessionId);
    expect((await say("/resume beta")).sessionId).toBe(beta.sessionId);
    const bobs = await say("bob's secret", bob);
    await expect(say(`/resume ${bobs.sessionId}`)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(say("/resume 9")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(say("/resume ../../etc")).rejects.toMatchObject({ code: "INVALID_ID" });
    expect((await say("/resume")).reply).toContain("Your sessions");
    // Bob's transcript is untouched and still routes to Bob.
    expect((await say("again", bob)).sessionId).toBe(bobs.sessionId);
  });

  it("branches into a copy on /branch: the parent ends resumable, memory hears reason branch", async () => {
    const parent = await say("my plan is A");
    await coordinator.markTurnCompleted(parent.sessionId, { agent: echo.agentFor(parent.sessionId) });
    const branch = await say("/branch plan B");
    expect(branch.sessionId).not.toBe(parent.sessionId);
    const child = await transcripts.getSession(branch.sessionId);
    expect(child).toMatchObject({ parentSessionId: parent.sessionId, title: "plan B" });
    expect(await contents(branch.sessionId)).toEqual(await contents(parent.sessionId));
    expect((await transcripts.getSession(parent.sessionId))?.endReason).toBe("session_switch");
    // The parent's turns were committed before the key left it.
    expect(await coordinator.hasUncommittedWork(parent.sessionId)).toBe(false);
    expect(echo.switches.at(-1)).toEqual({
      newSessionId: branch.sessionId,
      source: expect.objectContaining(alice),
      parentSessionId: parent.sessionId,
      reset: false,
      reason: "branch",
    });
    const next = await say("in the branch");
    expect(next.sessionId).toBe(branch.sessionId);
    expect(await contents(parent.sessionId)).not.toContain("user:in the branch");
    expect((await say(`/resume ${parent.sessionId}`)).sessionId).toBe(parent.sessionId);
  });

  it("rewinds the last N turns on /undo, keeps the rows for audit, and tells memory rewound", async () => {
    for (const text of ["one", "two", "three"]) await say(text);
    const undo = await say("/undo 2");
    expect(undo.reply).toContain("last 2 turns");
    expect(await contents(undo.sessionId)).toEqual(["user:one", "assistant:echo: one"]);
    expect(await transcripts.countMessages(undo.sessionId, { includeInactive: true })).toBe(6);
    expect(echo.switches.at(-1)).toMatchObject({ reason: "undo", rewound: true, reset: false });
    await say("four");
    expect(echo.inputs.at(-1)?.history.map((m) => m.content)).toEqual(["one", "echo: one"]);
    await expect(say("/undo 0")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(say("/undo lots")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("interrupts the running turn on /stop at once: the user message stays, nothing else is saved", async () => {
    echo.hold = (input) => (input.text === "long task" ? new Promise<void>(() => {}) : Promise.resolve());
    const running = say("long task");
    await waitFor(() => echo.inputs.length === 1);
    const queued = say("after it");
    const stop = await say("/stop");
    expect(stop.reply).toBe("Stopped the running turn.");
    const stopped = await running;
    expect(stopped).toMatchObject({ reply: null, stopped: true });
    // The message queued behind the stopped turn still runs, in the same session.
    expect(await queued).toMatchObject({ sessionId: stopped.sessionId, reply: "echo: after it" });
    expect(await contents(stopped.sessionId)).toEqual([
      "user:long task",
      "user:after it",
      "assistant:echo: after it",
    ]);
    expect((await say("/stop")).reply).toBe("Nothing is running.");
  });

  it("persists a /model override without credentials and hands it to the next turns", async () => {
    handler = build(echo, { modelSwitchable: true });
    const first = await say("hi");
    expect((await say("/model")).reply).toContain("default model");
    expect((await say("/model gpt-4.1-mini")).reply).toContain("gpt-4.1-mini");
    expect((await routingIndex.get(first.sessionKey))?.modelOverride).toEqual({ model: "gpt-4.1-mini" });
    await say("next");
    expect(echo.inputs.at(-1)?.modelOverride).toEqual({ model: "gpt-4.1-mini" });
    await expect(say("/model rm -rf")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    // A new session starts on the default model again.
    await say("/new");
    await say("fresh");
    expect(echo.inputs.at(-1)?.modelOverride).toBeUndefined();
  });

  it("refuses /model when the gateway has no model endpoint, storing nothing", async () => {
    const first = await say("hi");
    expect((await say("/model gpt-4.1-mini")).reply).toContain("offline model");
    expect((await routingIndex.get(first.sessionKey))?.modelOverride).toBeNull();
  });

  it("routes a command after an expiry as a message would: the old session is committed and memory told", async () => {
    const old = await say("hello");
    await coordinator.markTurnCompleted(old.sessionId, { agent: echo.agentFor(old.sessionId) });
    clock.advance(2 * 60 * 60 * 1000);
    const undo = await say("/undo");
    expect(undo.sessionId).not.toBe(old.sessionId);
    expect(await coordinator.hasUncommittedWork(old.sessionId)).toBe(false);
    expect(echo.switches.at(-1)).toEqual({
      newSessionId: undo.sessionId,
      source: expect.objectContaining(alice),
      parentSessionId: old.sessionId,
      reset: true,
      reason: "reset",
    });
  });

  it("tells the model why a session is new after an idle reset, once", async () => {
    await say("hello");
    clock.advance(2 * 60 * 60 * 1000);
    const reset = await say("back again");
    expect(reset.autoReset).toEqual({ reason: "idle", hadActivity: true });
    expect(echo.inputs.at(-1)?.systemNotes?.join("\n")).toContain("inactivity");
    await say("and again");
    expect(echo.inputs.at(-1)?.systemNotes?.join("\n") ?? "").not.toContain("inactivity");
  });

  it("keeps the user's message and saves no reply when the model fails, answering MODEL_FAILED", async () => {
    const failing = new EchoTurnRunner();
    failing.hold = async () => {
      throw Object.assign(new Error("upstream 500"), { code: "MODEL_FAILED" });
    };
    handler = build(failing);
    await expect(say("will fail")).rejects.toMatchObject({ code: "MODEL_FAILED" });
    const entry = await routingIndex.get(handler.busyKeys()[0] ?? (await say("/sessions")).sessionKey);
    expect(await contents(entry?.sessionId ?? "")).toEqual(["user:will fail"]);
  });

  it("compresses into a child session on /compress, committing the parent once through the coordinator", async () => {
    const provider = new RecordingMemoryProvider();
    const runner = new AgentTurnRunner({ coordinator, providers: () => [provider] });
    handler = build(runner);
    const turns: string[] = [];
    for (const text of ["I live in Oslo", "I like skiing", "I work nights", "I have a cat"]) {
      turns.push((await say(text)).sessionId);
    }
    const first = turns[0] ?? "";
    expect(new Set(turns).size).toBe(1);
    const compressed = await say("/compress");
    expect(compressed.reply).toContain("Compressed");
    expect(compressed.sessionId).not.toBe(first);
    expect((await transcripts.getSession(first))?.endReason).toBe("compression");
    expect(await transcripts.getCompressionTip(first)).toBe(compressed.sessionId);
    expect((await routingIndex.get(compressed.sessionKey))?.sessionId).toBe(compressed.sessionId);
    const child = await contents(compressed.sessionId);
    expect(child.length).toBeLessThan(8);
    expect(await coordinator.hasUncommittedWork(first)).toBe(false);
    // One session end (the commit through the coordinator), then the switch to the child.
    expect(provider.callsOf("onSessionEnd")).toHaveLength(1);
    expect(provider.callsOf("onSessionSwitch").at(-1)?.[1]).toMatchObject({ reason: "compression" });
    const next = await say("what do I like?");
    expect(next.sessionId).toBe(compressed.sessionId);
  });
});
