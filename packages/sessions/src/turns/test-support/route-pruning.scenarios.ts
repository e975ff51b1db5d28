import { type Clock, MemoryCommitCoordinator, type RoutingIndex, type TranscriptStore } from "@engram/core";
import { beforeEach, expect, it } from "vitest";
import { SessionRouter } from "../../routing/session-router.js";
import { type ManualClock, manualClock } from "../../routing/test-support/session-router.scenarios.js";
import { EchoTurnRunner } from "../echo-turn-runner.js";
import { SessionExpiryWatcher } from "../session-expiry-watcher.js";
import { SessionTurnHandler } from "../session-turn-handler.js";
import type { TurnInput, TurnOutput } from "../turn-runner.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const dm = (id: string) => ({ platform: "telegram", chatId: id, chatType: "dm", userId: id });
const keyOf = (id: string) => `agent:main:telegram:dm:${id}`;

/** Holds the turns of one session key until its gate opens. */
class GatedRunner extends EchoTurnRunner {
  gate: { readonly key: string; readonly open: Promise<void> } | undefined;
  override async runTurn(input: TurnInput): Promise<TurnOutput> {
    if (this.gate?.key === input.sessionKey) await this.gate.open;
    return super.runTurn(input);
  }
}

/**
 * Hourly pruning of old routing entries by the expiry sweep (seed 004 `prune_old_entries`), on any
 * routing index and transcript store, with a clock the tests move.
 */
export function routePruningScenarios(
  createStores: (clock: Clock) => { routingIndex: RoutingIndex; transcripts: TranscriptStore },
): void {
  let clock: ManualClock;
  let routingIndex: RoutingIndex;
  let runner: GatedRunner;
  let handler: SessionTurnHandler;
  let pruned: number;
  let router: SessionRouter;

  beforeEach(() => {
    clock = manualClock(Date.UTC(2026, 0, 10, 12));
    const stores = createStores(clock);
    routingIndex = stores.routingIndex;
    runner = new GatedRunner();
    pruned = 0;
    // No reset policy expires anything: only pruning removes entries here.
    router = new SessionRouter({
      ...stores,
      clock,
      resetPolicies: { default: { mode: "none", atHour: 4, idleMinutes: 0 } },
    });
    handler = new SessionTurnHandler({
      router,
      routingIndex,
      transcripts: stores.transcripts,
      runner,
      coordinator: new MemoryCommitCoordinator({ clock }),
    });
  });

  const watcher = (routeMaxAgeDays: number) =>
    new SessionExpiryWatcher({
      routingIndex,
      router,
      handler,
      clock,
      observer: { routesPruned: (count) => (pruned += count) },
      routeMaxAgeDays,
    });
  const prunedMetric = async () => pruned;

  it("prunes entries inactive past the max age, keeping suspended ones and keys with a turn in progress", async () => {
    await handler.handle({ source: dm("1"), text: "old" });
    await handler.handle({ source: dm("2"), text: "old but suspended" });
    await routingIndex.suspend(keyOf("2"));
    await handler.handle({ source: dm("3"), text: "old, a turn still running" });
    let open!: () => void;
    runner.gate = {
      key: keyOf("3"),
      open: new Promise<void>((resolve) => {
        open = resolve;
      }),
    };
    const running = handler.handle({ source: dm("3"), text: "held" });
    clock.advance(90 * DAY + MINUTE);
    await handler.handle({ source: dm("4"), text: "recent" });
    const sweeper = watcher(90);

    const report = await sweeper.sweep();
    expect(report.pruned).toBe(1);
    expect(await routingIndex.get(keyOf("1"))).toBeUndefined();
    for (const kept of ["2", "3", "4"]) expect(await routingIndex.get(keyOf(kept)), kept).toBeDefined();
    expect(await prunedMetric()).toBe(1);
    open();
    await running;
    runner.gate = undefined;
  });

  it("prunes at most once an hour, by the injected clock", async () => {
    const sweeper = watcher(30);
    await handler.handle({ source: dm("5"), text: "first" });
    clock.advance(30 * MINUTE);
    await handler.handle({ source: dm("6"), text: "half an hour later" });
    clock.advance(30 * DAY - 30 * MINUTE + MINUTE);
    expect((await sweeper.sweep()).pruned).toBe(1); // "5" is past 30 days, "6" not yet
    clock.advance(30 * MINUTE);
    // "6" is past 30 days now, but the last prune ran half an hour ago.
    expect((await sweeper.sweep()).pruned).toBeUndefined();
    expect(await routingIndex.get(keyOf("6"))).toBeDefined();
    clock.advance(31 * MINUTE);
    expect((await sweeper.sweep()).pruned).toBe(1);
    expect(await routingIndex.get(keyOf("6"))).toBeUndefined();
    expect(await prunedMetric()).toBe(2);
  });

  it("never prunes with a max age of 0", async () => {
    await handler.handle({ source: dm("8"), text: "kept forever" });
    clock.advance(3650 * DAY);
    const report = await watcher(0).sweep();
    expect(report.pruned).toBeUndefined();
    expect(await routingIndex.get(keyOf("8"))).toBeDefined();
    expect(await prunedMetric()).toBe(0);
  });
}
