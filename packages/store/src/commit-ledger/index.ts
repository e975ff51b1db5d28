export * from "./postgres-commit-ledger.js";
