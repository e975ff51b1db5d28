import {
  InMemoryRoutingIndex,
  InMemoryTranscriptStore,
  MemoryCommitCoordinator,
  parseSessionSource,
} from "@engram/core";
import { beforeEach, describe, expect, it } from "vitest";
import { SessionRouter } from "../routing/session-router.js";
import { type ManualClock, manualClock } from "../routing/test-support/session-router.scenarios.js";
import { EchoTurnRunner } from "./echo-turn-runner.js";
import { GatewayTurnHandler } from "./gateway-turn-handler.js";
import { SessionExpiryWatcher } from "./session-expiry-watcher.js";

/** Echo turns that a test can hold open (`hold`). */
class HoldingRunner extends EchoTurnRunner {}

const MINUTE = 60_000;
const dm = (id: string) => ({ platform: "telegram", chatId: id, chatType: "dm", userId: id });

describe("SessionExpiryWatcher", () => {
  let clock: ManualClock;
  let routingIndex: InMemoryRoutingIndex;
  let coordinator: MemoryCommitCoordinator;
  let runner: HoldingRunner;
  let handler: GatewayTurnHandler;
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
    handler = new GatewayTurnHandler({ router, routingIndex, transcripts, runner, coordinator });
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
    });
    release();
    const reply = await running;
    expect(reply.reply).toBe("echo: slow");
    expect(await coordinator.hasUncommittedWork(reply.sessionId)).toBe(true);
    expect((await watcher.sweep()).finalized).toEqual([reply.sessionKey]);
    expect(await coordinator.hasUncommittedWork(reply.sessionId)).toBe(false);
  });
});
