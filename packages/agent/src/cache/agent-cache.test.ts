// AgentCache with real agents (offline or gated model) and recording providers on the in-process
// coordinator: drops commit first, never touch a pinned agent, and a failed commit loses nothing.
import { InMemoryCommitLedger, MemoryCommitCoordinator } from "@engram/core";
import { FakeClock, RecordingMemoryProvider } from "@engram/testkit";
import { beforeEach, describe, expect, it } from "vitest";
import { Agent } from "../agent/agent.js";
import { type ChatModel, ZERO_USAGE } from "../model/chat-model.js";
import { AgentCache } from "./agent-cache.js";

const MINUTE = 60_000;

/** A recording provider whose session ends fail while `failing` is set (a provider outage). */
class FlakyProvider extends RecordingMemoryProvider {
  failing = false;
  override onSessionEnd(messages: Parameters<RecordingMemoryProvider["onSessionEnd"]>[0]): void {
    if (this.failing) throw new Error("provider outage");
    super.onSessionEnd(messages);
  }
}

/** A model whose answers wait for `release()`. */
function gatedModel(): { model: ChatModel; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const model: ChatModel = {
    id: "gated",
    complete: () => Promise.reject(new Error("streaming only")),
    async *stream() {
      await gate;
      yield {
        type: "done" as const,
        completion: { text: "done", toolCalls: [], usage: ZERO_USAGE, finishReason: "stop" as const },
      };
    },
  };
  return { model, release };
}

/** Session ends take a few milliseconds, so commits made to free room overlap in time. */
class SlowEndProvider extends FlakyProvider {
  override async onSessionEnd(
    messages: Parameters<RecordingMemoryProvider["onSessionEnd"]>[0],
  ): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2 + Math.floor(Math.random() * 4)));
    super.onSessionEnd(messages);
  }
}

describe("AgentCache", () => {
  let clock: FakeClock;
  let coordinator: MemoryCommitCoordinator;
  let providers: Map<string, FlakyProvider>;
  let cache: AgentCache;
  let model: ChatModel | undefined;

  const create = (sessionId: string) => () => {
    const provider = new FlakyProvider({ name: "recording" });
    providers.set(sessionId, provider);
    return new Agent({ sessionId, providers: [provider], ...(model ? { model } : {}) });
  };
  /** One completed, recorded turn, the way hosts run them: inside `use`. */
  const turn = (sessionId: string, text = "I like tea") =>
    cache.use(sessionId, create(sessionId), async (agent) => {
      const result = await agent.runTurn(text, []);
      expect(result.completed).toBe(true);
      await agent.memory.flushPending();
      await coordinator.markTurnCompleted(sessionId, { agent });
    });

  beforeEach(() => {
    clock = new FakeClock(Date.UTC(2026, 0, 10, 12));
    coordinator = new MemoryCommitCoordinator();
    providers = new Map();
    model = undefined;
    cache = new AgentCache({ coordinator, maxAgents: 2, idleTtlMs: 30 * MINUTE, clock });
  });

  it("builds, initialises and registers an agent once per session, and reuses it", async () => {
    await turn("s1");
    await turn("s1", "again");
    expect(cache.size).toBe(1);
    expect(providers.get("s1")?.callsOf("initialize")).toHaveLength(1);
    expect(await coordinator.hasUncommittedWork("s1")).toBe(true);
  });

  it("commits the least recently used agent before dropping it for room", async () => {
    await turn("a");
    await turn("b");
    await turn("a", "a again");
    await turn("c");
    await cache.settled();
    expect(cache.peek("b")).toBeUndefined();
    expect(providers.get("b")?.callsOf("onSessionEnd")).toHaveLength(1);
    expect(await coordinator.hasUncommittedWork("b")).toBe(false);
    expect(providers.get("a")?.callsOf("onSessionEnd")).toHaveLength(0);
  });

  it("never drops a pinned agent, for room or for idleness, however long the turn takes", async () => {
    const gated = gatedModel();
    model = gated.model;
    const running = turn("slow");
    await new Promise((resolve) => setTimeout(resolve, 10));
    model = undefined;
    clock.advance(60 * MINUTE);
    expect(await cache.sweepIdle()).toEqual({ evicted: [], failed: [] });
    await turn("b");
    await turn("c");
    expect(cache.peek("slow")).toBeDefined();
    expect(cache.evict("slow")).toBe(false);
    gated.release();
    await running;
    expect(await coordinator.hasUncommittedWork("slow")).toBe(true);
  });

  it("commits and drops agents idle past the TTL, keeping recently used ones", async () => {
    await turn("old");
    clock.advance(20 * MINUTE);
    await turn("recent");
    clock.advance(15 * MINUTE);
    expect(await cache.sweepIdle()).toEqual({ evicted: ["old"], failed: [] });
    expect(providers.get("old")?.callsOf("onSessionEnd")).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(providers.get("old")?.callsOf("shutdown")).toHaveLength(1);
    expect(cache.peek("recent")).toBeDefined();
  });

  it("keeps an idle agent whose commit failed and drops it once a later sweep commits it", async () => {
    await turn("flaky");
    const provider = providers.get("flaky");
    if (!provider) throw new Error("no provider");
    provider.failing = true;
    clock.advance(60 * MINUTE);
    expect(await cache.sweepIdle()).toEqual({ evicted: [], failed: ["flaky"] });
    expect(await coordinator.hasUncommittedWork("flaky")).toBe(true);
    provider.failing = false;
    expect(await cache.sweepIdle()).toEqual({ evicted: ["flaky"], failed: [] });
    expect(provider.callsOf("onSessionEnd")).toHaveLength(1);
  });

  // Regression (issue 13, item 5): a drop committed one ownership segment. A session continued after a
  // crash has two (the dead process's turns, adopted by this agent, and this agent's own), so the idle
  // sweep counted it failed, kept the agent and left the session dirty.
  it("commits every segment of a dropped agent's session, including a crashed process's turns it adopted", async () => {
    const ledger = new InMemoryCommitLedger();
    const crashed = new MemoryCommitCoordinator({ ledger, instanceId: "gw:default:crashed" });
    crashed.registerAgent("continued", { commitMemorySession: () => undefined });
    await crashed.markTurnCompleted("continued");
    coordinator = new MemoryCommitCoordinator({ ledger, instanceId: "gw:default:now" });
    await coordinator.reapInstances("gw:default:");
    cache = new AgentCache({ coordinator, maxAgents: 2, idleTtlMs: 30 * MINUTE, clock });
    await turn("continued", "after the crash");
    clock.advance(60 * MINUTE);
    expect(await cache.sweepIdle()).toEqual({ evicted: ["continued"], failed: [] });
    expect(ledger.hasUncommittedWork("continued")).toBe(false);
    expect(providers.get("continued")?.callsOf("onSessionEnd")).toHaveLength(2);
  });

  // Regression: callers making room at the same time all picked the same least recently used victim;
  // the second drop saw the first's commit in progress, counted the agent dirty and removed it, and
  // the first then found it gone and skipped the shutdown: its providers (and their stores) leaked.
  it("shuts every dropped agent down once when many callers make room at the same time", async () => {
    cache = new AgentCache({ coordinator, maxAgents: 2, clock });
    const built: SlowEndProvider[] = [];
    const slowCreate = (sessionId: string) => () => {
      const provider = new SlowEndProvider({ name: "slow" });
      built.push(provider);
      return new Agent({ sessionId, providers: [provider] });
    };
    const slowTurn = (sessionId: string) =>
      cache.use(sessionId, slowCreate(sessionId), async (agent) => {
        await agent.runTurn("hello", []);
        await coordinator.markTurnCompleted(sessionId, { agent });
      });
    const sessions = Array.from({ length: 24 }, (_, i) => `r${i}`);
    for (let round = 0; round < 3; round++) await Promise.all(sessions.map((id) => slowTurn(id)));
    await cache.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(built.length).toBeGreaterThan(sessions.length);
    // Dropped (shut down once) or closed with the cache (once): never zero, never twice.
    expect(built.map((provider) => provider.callsOf("shutdown").length)).toEqual(built.map(() => 1));
  });

  it("moves an agent to a new session id on rekey, re-registered with the coordinator", async () => {
    await turn("parent");
    await coordinator.commitSessionMemory("parent");
    cache.rekey("parent", "child");
    expect(cache.peek("parent")).toBeUndefined();
    await turn("child", "in the child");
    expect(providers.has("child")).toBe(false);
    expect(await coordinator.hasUncommittedWork("child")).toBe(true);
  });

  it("runs many sessions' turns at once under a small cap without losing a completed turn", async () => {
    cache = new AgentCache({ coordinator, maxAgents: 3, clock });
    const sessions = Array.from({ length: 12 }, (_, i) => `s${i}`);
    // Sessions race each other for the three places; each session's own turns run in order.
    await Promise.all(
      sessions.map(async (id) => {
        await turn(id);
        await turn(id, "second");
      }),
    );
    await cache.settled();
    const ends = sessions.map((id) => providers.get(id)?.callsOf("onSessionEnd").length ?? 0);
    for (const [i, id] of sessions.entries()) {
      // Each turn is either committed (its agent was dropped) or still uncommitted with a live agent.
      const dirty = await coordinator.hasUncommittedWork(id);
      expect(dirty || (ends[i] ?? 0) >= 1).toBe(true);
    }
    expect(cache.size).toBeLessThanOrEqual(3);
    // Every agent that left the cache was shut down exactly once (its stores released): concurrent
    // callers making room never picked the same victim, so none was dropped by two of them and lost.
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const id of sessions) {
      const shutdowns = providers.get(id)?.callsOf("shutdown").length ?? 0;
      expect(shutdowns).toBe(cache.peek(id) ? 0 : 1);
    }
  });

  // Regression (issue 18): a miss awaited the least recently used agent's drop, memory commit included,
  // before building its own agent, so every turn of a session that was not cached also paid for
  // another session's commit (and waited behind a slow provider).
  it("runs a turn for an uncached session without waiting for the commit of the agent it displaces", async () => {
    cache = new AgentCache({ coordinator, maxAgents: 1, clock });
    await turn("old");
    const provider = providers.get("old");
    if (!provider) throw new Error("no provider");
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    provider.onSessionEnd = async (messages) => {
      await gate;
      RecordingMemoryProvider.prototype.onSessionEnd.call(provider, messages);
    };
    const timeout = new Promise((resolve) => setTimeout(() => resolve("timed out"), 2_000));
    expect(await Promise.race([turn("new").then(() => "done"), timeout])).toBe("done");
    expect(provider.callsOf("onSessionEnd")).toHaveLength(0);
    openGate();
    await cache.settled();
    expect(provider.callsOf("onSessionEnd")).toHaveLength(1);
    expect(await coordinator.hasUncommittedWork("old")).toBe(false);
    expect(cache.peek("old")).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it("holds at most maxPendingDrops agents over the cap while their commits run", async () => {
    cache = new AgentCache({ coordinator, maxAgents: 2, maxPendingDrops: 1, clock });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    await turn("a");
    await turn("b");
    for (const id of ["a", "b"]) {
      const provider = providers.get(id)!;
      provider.onSessionEnd = async (messages) => {
        await gate;
        RecordingMemoryProvider.prototype.onSessionEnd.call(provider, messages);
      };
    }
    await turn("c");
    expect(cache.size).toBe(3);
    // A second miss needs a second drop: it waits for the first one's commit.
    const fourth = turn("d");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cache.peek("d")).toBeUndefined();
    openGate();
    await fourth;
    await cache.settled();
    expect(cache.size).toBe(2);
    expect(await coordinator.hasUncommittedWork("a")).toBe(false);
    expect(await coordinator.hasUncommittedWork("b")).toBe(false);
  });
});
