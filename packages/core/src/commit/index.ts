/**
 * Commit: the memory-commit lifecycle (seed 000). Completed turns become generations owned by the
 * agent that ran them; the coordinator commits them segment by segment under an in-flight lease kept
 * in a {@link CommitLedger} (in memory for one process, Postgres in `@engram/store` for many).
 */
export * from "./commit-errors.js";
export * from "./commit-ledger.js";
export * from "./commit-tokens.js";
export type * from "./committable-agent.js";
export * from "./in-memory-commit-ledger.js";
export * from "./maybe-promise.js";
export * from "./memory-commit-coordinator.js";
