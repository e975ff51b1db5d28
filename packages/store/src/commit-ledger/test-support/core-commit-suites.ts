/**
 * The commit-ledger conformance suite and test kit live in core's `src/commit/test-support/` (test-only,
 * never built, so never a runtime dependency). They are loaded by URL: a static import would pull
 * core's sources into this package's type-check root. The types come from `@engram/core`.
 */
import type { Clock, CommitLedger } from "@engram/core";

export interface CommitLedgerTestInitializer {
  name: string;
  createLedger(ctx: { clock: Clock }): CommitLedger | Promise<CommitLedger>;
  destroyLedger?(ledger: CommitLedger): unknown;
  beforeAll?(): unknown;
  afterAll?(): unknown;
  beforeAllTimeout?: number;
}

export interface ConformanceModule {
  commitLedgerConformance(init: CommitLedgerTestInitializer): void;
}

const coreCommitTestSupport = new URL("../../../../core/src/commit/test-support/", import.meta.url);

export interface InterleavingsModule {
  runCommitInterleaving(props: {
    seed: number;
    ledger: CommitLedger;
    asyncHops?: boolean;
    finishWithDrain?: boolean;
    steps?: number;
  }): Promise<void>;
}

export async function loadCommitInterleavings(): Promise<InterleavingsModule> {
  return (await import(
    new URL("commit-interleavings.ts", coreCommitTestSupport).href
  )) as InterleavingsModule;
}

export async function loadCommitLedgerConformance(): Promise<ConformanceModule> {
  return (await import(
    new URL("commit-ledger-conformance.ts", coreCommitTestSupport).href
  )) as ConformanceModule;
}
