/**
 * DI token of the `CommitLedger` a host composes (in memory for one process, Postgres for
 * several): `container.register<CommitLedger>(COMMIT_LEDGER, { useValue: ledger })`. `Symbol.for`, so
 * two copies of core loaded by mistake still agree on it.
 */
export const COMMIT_LEDGER: unique symbol = Symbol.for("engram.core.CommitLedger");
