import { InMemoryCommitLedger } from "./in-memory-commit-ledger.js";
import { commitLedgerConformance } from "./test-support/commit-ledger-conformance.js";

commitLedgerConformance({
  name: "InMemoryCommitLedger",
  createLedger: ({ clock }) => new InMemoryCommitLedger({ clock }),
});
