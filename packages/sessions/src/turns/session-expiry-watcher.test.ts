import {
  InMemoryCommitLedger,
  InMemoryRoutingIndex,
  InMemoryTranscriptStore,
  MemoryCommitCoordinator,
  parseSessionSource,
} from "@engram/core";
import { beforeEach, describe, expect, it } from "vitest";
import { SessionRouter } from "../routing/session-router.js";
import { type ManualClock, manualClock } from "../routing/test-support/session-router.scenarios.js";
import { EchoTurnRunner } from "./echo-turn-runner.js";
import { SessionExpiryWatcher } from "./session-expiry-watcher.js";
import { SessionTurnHandler } from "./session-turn-handler.js";

/** Echo turns that a test can hold open (`hold`). */
class HoldingRunner extends EchoTurnRunner {}

const MINUTE = 60_000;
const dm = (id: string) => ({ platform: "telegram", chatId: id, chatType: "dm", userId: id });

describe("SessionExpiryWatcher", () => {
  let clock: ManualClock;
  let routingIndex: InMemoryRoutingIndex;
  let coordinator: MemoryCommitCoordinator;
  let runner: HoldingRunner;
  let handler: SessionTurnHandler;
  let watcher: SessionExpiryWatcher;

  beforeEach(() => {
    clock = manualClock(Date.UTC(2026, 0, 10, 12));
    routingIndex = new InMemoryRoutingIndex({ clock });
    const transcripts = new InMemoryTranscriptStore({ clock });
    coordinator = new MemoryCommitCoordinator({ clock });
    runner = new HoldingRunner();
    const router = new SessionRouter({
      routingIndex,
      transcripts,
      clock,
      resetPolicies: {
        default: { mode: "idle", atHour: 4, idleMinutes: 60 },
        byPlatform: { slack: { mode: "none", atHour: 4, idleMinutes: 0 } },
      },
    });
    handler = new SessionTurnHandler({ router, routingIndex, transcripts, runner, coordinator });
    watcher = new SessionExpiryWatcher({ routingIndex, router, handler, pageSize: 2 });
  });

  it("commits expired sessions once, flags them finalised and leaves live ones alone", async () => {
    const old = await handler.handle({ source: dm("1"), text: "hi" });
    const older = await handler.handle({ source: dm("2"), text: "hi" });
    const never = await handler.handle({ source: { ...dm("3"), platform: "slack" }, text: "hi" });
    clock.advance(61 * MINUTE);
    const live = await handler.handle({ source: dm("4"), text: "hi" });
    const agent = runner.agentFor(old.sessionId) as unknown as { commits: number };
    const report = await watcher.sweep();
    expect([...report.finalized].sort()).toEqual([old.sessionKey, older.sessionKey].sort());
    expect(agent.commits).toBe(1);
    expect(await coordinator.hasUncommittedWork(old.sessionId)).toBe(false);
    expect(await coordinator.hasUncommittedWork(never.sessionId)).toBe(true);
    expect(await coordinator.hasUncommittedWork(live.sessionId)).toBe(true);
    expect((await routingIndex.get(old.sessionKey))?.expiryFinalized).toBe(true);
    expect((await watcher.sweep()).finalized).toEqual([]);
    // The next message still starts over and reports why.
    const next = await handler.handle({ source: dm("1"), text: "back" });
    expect(next.autoReset).toEqual({ reason: "idle", hadActivity: true });
  });

  it("skips a key whose turn is running and finalises it on a later sweep", async () => {
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    runner.hold = () =>
      new Promise<void>((resolve) => {
        release = resolve;
        entered();
      });
    const running = handler.handle({ source: parseSessionSource(dm("1")), text: "slow" });
    await inside;
    // The model takes longer than the idle limit: the entry looks expired while the turn runs.
    clock.advance(61 * MINUTE);
    const report = await watcher.sweep();
    expect(report).toEqual({
      finalized: [],
      failed: [],
      idleAgentsEvicted: [],
      busy: ["agent:main:telegram:dm:1"],
      unattendedCommitted: [],
      unattendedLeft: [],
    });
    release();
    const reply = await running;
    expect(reply.reply).toBe("echo: slow");
    expect(await coordinator.hasUncommittedWork(reply.sessionId)).toBe(true);
    expect((await watcher.sweep()).finalized).toEqual([reply.sessionKey]);
    expect(await coordinator.hasUncommittedWork(reply.sessionId)).toBe(false);
  });
});

// Regression (issue 13, item 5): the sweep looked only at expired routes and this process's agents, so
// what a crashed process left in the durable ledger stayed uncommitted until a boundary that, for an
// abandoned or already ended session, never came.
describe("SessionExpiryWatcher after a crash", () => {
  it("commits what a crashed process left for sessions nobody serves, and leaves a session an agent serves again to its boundary", async () => {
    const clock = manualClock(Date.UTC(2026, 0, 10, 12));
    const routingIndex = new InMemoryRoutingIndex({ clock });
    const transcripts = new InMemoryTranscriptStore({ clock });
    const ledger = new InMemoryCommitLedger({ clock });
    const router = new SessionRouter({ routingIndex, transcripts, clock });
    const gateway = (instanceId: string) => {
      const runner = new EchoTurnRunner();
      // The handler builds the adopting agents; it needs the coordinator first, hence the late binding.
      let handler: SessionTurnHandler | undefined;
      const coordinator = new MemoryCommitCoordinator({
        ledger,
        clock,
        instanceId,
        adoptAgent: (sessionId) => handler?.adoptAgent(sessionId),
      });
      handler = new SessionTurnHandler({ router, routingIndex, transcripts, runner, coordinator });
      return { runner, coordinator, handler };
    };
    const crashed = gateway("gw:default:crashed");
    const abandoned = await crashed.handler.handle({ source: dm("1"), text: "I use tabs" });
    const ended = await crashed.handler.handle({ source: dm("2"), text: "I use spaces" });
    // Another live process ends that session while its owner still lives: the owner's work stays.
    const peer = gateway("gw:peer:live");
    await peer.handler.handle({ source: dm("2"), text: "/new" });
    const resumed = await crashed.handler.handle({ source: dm("3"), text: "I use vim" });
    // The process dies: nothing is drained, nothing retired.
    const now = gateway("gw:default:now");
    await now.coordinator.reapInstances("gw:default:");
    const watcher = new SessionExpiryWatcher({ routingIndex, router, handler: now.handler });
    expect(ledger.hasUncommittedWork(ended.sessionId)).toBe(true);
    await now.handler.handle({ source: dm("3"), text: "back again" });

    const report = await watcher.sweep();
    expect([...report.unattendedCommitted].sort()).toEqual([abandoned.sessionId, ended.sessionId].sort());
    expect(report.unattendedLeft).toEqual([]);
    expect(now.runner.adopted.map((a) => a.sessionId).sort()).toEqual(
      [abandoned.sessionId, ended.sessionId].sort(),
    );
    expect(ledger.hasUncommittedWork(abandoned.sessionId)).toBe(false);
    expect(ledger.hasUncommittedWork(ended.sessionId)).toBe(false);
    // Served again here: its crashed agent's turn waits for the session's boundary, then goes with it.
    expect(ledger.hasUncommittedWork(resumed.sessionId)).toBe(true);
    await now.handler.handle({ source: dm("3"), text: "/new" });
    expect(ledger.hasUncommittedWork(resumed.sessionId)).toBe(false);
    expect((await watcher.sweep()).unattendedCommitted).toEqual([]);
  });
});
