/**
 * MemoryCommitCoordinator over PostgresCommitLedger (PGlite and Postgres): core's randomised
 * interleavings (turns, replacements, unregistrations, overlapping/waiting/timing-out commits,
 * failing and slow agents) with a ledger that answers asynchronously and must be polled. Every
 * generation ends up committed exactly once; no commits of a session overlap; each commit runs the
 * segment's owner.
 */
import { MemoryCommitCoordinator } from "@engram/core";
import { expect, it } from "vitest";
import { describeEachBackend } from "../testing/describe-each-backend.js";
import { PostgresCommitLedger } from "./postgres-commit-ledger.js";
import { loadCommitInterleavings } from "./test-support/core-commit-suites.js";

const { runCommitInterleaving } = await loadCommitInterleavings();

describeEachBackend("MemoryCommitCoordinator over PostgresCommitLedger", (getDb) => {
  it("keeps every guarantee over random interleavings (24 seeds)", async () => {
    for (let seed = 1; seed <= 24; seed++) {
      await runCommitInterleaving({
        seed,
        ledger: new PostgresCommitLedger(getDb(), { asyncCompletions: seed % 2 === 0 }),
        finishWithDrain: seed % 3 === 0,
        steps: 40,
      });
    }
  }, 180_000);

  it("keeps a turn completed during an in-flight commit for the next commit, which a waiter runs", async () => {
    const coordinator = new MemoryCommitCoordinator({
      ledger: new PostgresCommitLedger(getDb()),
      pollMinMs: 2,
      pollMaxMs: 10,
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    coordinator.registerAgent("s", {
      commitMemorySession: () => {
        calls++;
        return calls === 1 ? gate : undefined;
      },
    });
    await coordinator.markTurnCompleted("s");
    const first = coordinator.commitSessionMemory("s");
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await coordinator.markTurnCompleted("s")).toBe(2);
    expect(await coordinator.commitSessionMemory("s")).toBe(false); // in flight: no wait asked
    const waiter = coordinator.commitSessionMemory("s", { timeoutMs: 10_000 });
    setTimeout(release, 20);
    expect(await first).toBe(true);
    expect(await waiter).toBe(true);
    expect(calls).toBe(2);
    expect(await coordinator.hasUncommittedWork("s")).toBe(false);
    await coordinator.close();
  });
});
