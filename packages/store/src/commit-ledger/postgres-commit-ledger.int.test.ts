import { describeEachBackend } from "../testing/describe-each-backend.js";
import { PostgresCommitLedger } from "./postgres-commit-ledger.js";
import { loadCommitLedgerConformance } from "./test-support/core-commit-suites.js";

const { commitLedgerConformance } = await loadCommitLedgerConformance();

describeEachBackend("PostgresCommitLedger", (getDb) => {
  for (const asyncLeaseCommits of [true, false]) {
    commitLedgerConformance({
      name: `PostgresCommitLedger (asyncLeaseCommits: ${asyncLeaseCommits}, asyncCompletions: ${!asyncLeaseCommits})`,
      createLedger: ({ clock }) =>
        new PostgresCommitLedger(getDb(), { clock, asyncLeaseCommits, asyncCompletions: !asyncLeaseCommits }),
    });
  }
  // What the hosts run: the defaults (async lease commits and completions, batching on).
  commitLedgerConformance({
    name: "PostgresCommitLedger (defaults)",
    createLedger: ({ clock }) => new PostgresCommitLedger(getDb(), { clock }),
  });
});
