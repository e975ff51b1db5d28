// AgentTurnRunner's agent cache with real agents (offline model) and recording providers, on the
// in-process coordinator: the idle sweep and the LRU cap commit through the coordinator before they
// drop an agent, never drop one mid-turn, and keep one whose commit failed.
import { type ChatModel, ZERO_USAGE } from "@engram/agent";
import { MemoryCommitCoordinator, type SessionSource } from "@engram/core";
import { RecordingMemoryProvider } from "@engram/testkit";
import { beforeEach, describe, expect, it } from "vitest";
import { manualClock } from "../routing/test-support/session-router.scenarios.js";
import { AgentTurnRunner } from "./agent-turn-runner.js";

const source: SessionSource = { platform: "telegram", chatId: "1", chatType: "dm", userId: "1" };
const MINUTE = 60_000;

/** A recording provider whose session ends fail while `failing` is set (a provider outage). */
class FlakyProvider extends RecordingMemoryProvider {
  failing = false;
  override onSessionEnd(messages: Parameters<RecordingMemoryProvider["onSessionEnd"]>[0]): void {
    if (this.failing) throw new Error("provider outage");
    super.onSessionEnd(messages);
  }
}

describe("AgentTurnRunner agent cache", () => {
  const clock = manualClock(Date.UTC(2026, 0, 10, 12));
  let coordinator: MemoryCommitCoordinator;
  let providers: Map<string, FlakyProvider>;
  let runner: AgentTurnRunner;

  const build = (props: { maxAgents?: number } = {}) =>
    new AgentTurnRunner({
      coordinator,
      clock,
      idleTtlMs: 30 * MINUTE,
      ...props,
      providers: ({ sessionId }) => {
        const provider = new FlakyProvider({ name: "recording" });
        providers.set(sessionId, provider);
        return [provider];
      },
    });

  beforeEach(() => {
    coordinator = new MemoryCommitCoordinator({ clock });
    providers = new Map();
    runner = build();
  });

  const turn = async (sessionId: string, text = "I like tea") => {
    const output = await runner.runTurn({
      sessionId,
      sessionKey: `k:${sessionId}`,
      source,
      text,
      history: [],
    });
    expect(output.completed).toBe(true);
    await coordinator.markTurnCompleted(sessionId, { agent: runner.agentFor(sessionId) });
  };

  it("commits and drops agents idle past the TTL on a sweep, keeping the recently used ones", async () => {
    await turn("old");
    clock.advance(20 * MINUTE);
    await turn("recent");
    clock.advance(15 * MINUTE);
    const report = await runner.sweepIdle();
    expect(report).toEqual({ evicted: ["old"], failed: [] });
    expect(runner.cachedAgents).toBe(1);
    expect(providers.get("old")?.callsOf("onSessionEnd")).toHaveLength(1);
    expect(await coordinator.hasUncommittedWork("old")).toBe(false);
    expect(providers.get("recent")?.callsOf("onSessionEnd")).toHaveLength(0);
  });

  it("never drops an agent in the middle of a turn, however long the turn takes", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: ChatModel = {
      id: "slow",
      complete: () => Promise.reject(new Error("streaming only")),
      async *stream() {
        await gate;
        const completion = { text: "done", toolCalls: [], usage: ZERO_USAGE, finishReason: "stop" as const };
        yield { type: "done" as const, completion };
      },
    };
    runner = new AgentTurnRunner({
      coordinator,
      clock,
      idleTtlMs: 30 * MINUTE,
      model: slow,
      providers: () => [new FlakyProvider()],
    });
    const running = turn("busy");
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock.advance(60 * MINUTE);
    expect(await runner.sweepIdle()).toEqual({ evicted: [], failed: [] });
    release();
    await running;
    expect(runner.cachedAgents).toBe(1);
    clock.advance(60 * MINUTE);
    expect((await runner.sweepIdle()).evicted).toEqual(["busy"]);
  });

  it("keeps an idle agent whose commit failed, and drops it once a later sweep commits", async () => {
    await turn("flaky");
    const provider = providers.get("flaky");
    if (!provider) throw new Error("no provider");
    provider.failing = true;
    clock.advance(60 * MINUTE);
    expect(await runner.sweepIdle()).toEqual({ evicted: [], failed: ["flaky"] });
    expect(runner.cachedAgents).toBe(1);
    expect(await coordinator.hasUncommittedWork("flaky")).toBe(true);
    provider.failing = false;
    expect(await runner.sweepIdle()).toEqual({ evicted: ["flaky"], failed: [] });
    expect(provider.callsOf("onSessionEnd")).toHaveLength(1);
  });

  it("commits the least recently used agent before dropping it for room", async () => {
    runner = build({ maxAgents: 2 });
    await turn("a");
    await turn("b");
    await turn("c");
    expect(runner.cachedAgents).toBe(2);
    expect(providers.get("a")?.callsOf("onSessionEnd")).toHaveLength(1);
    expect(await coordinator.hasUncommittedWork("a")).toBe(false);
    expect(providers.get("b")?.callsOf("onSessionEnd")).toHaveLength(0);
  });
});
