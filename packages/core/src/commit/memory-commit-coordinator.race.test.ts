/**
 * Randomised interleavings (see test-support/commit-interleavings.ts) over the in-memory ledger,
 * answered synchronously and asynchronously (polled, no notifications). Whatever the interleaving:
 * no two commits of a session overlap, every commit runs the agent owning the captured segment, and
 * every generation ends up committed exactly once (nothing lost to a late or failed commit, nothing
 * committed twice).
 */
import { describe, it } from "vitest";
import { InMemoryCommitLedger } from "./in-memory-commit-ledger.js";
import { runCommitInterleaving } from "./test-support/commit-interleavings.js";

describe("MemoryCommitCoordinator under random interleavings", () => {
  it("keeps every guarantee with a synchronous ledger (150 seeds)", async () => {
    for (let seed = 1; seed <= 150; seed++) {
      await runCommitInterleaving({
        seed,
        ledger: new InMemoryCommitLedger(),
        finishWithDrain: seed % 3 === 0,
      });
    }
  });

  it("keeps every guarantee with an asynchronous, polled ledger (150 seeds)", async () => {
    for (let seed = 1001; seed <= 1150; seed++) {
      await runCommitInterleaving({
        seed,
        ledger: new InMemoryCommitLedger(),
        asyncHops: true,
        finishWithDrain: seed % 3 === 0,
      });
    }
  });
});
