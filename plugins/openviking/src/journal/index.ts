export * from "./pending-commit-journal.js";
export * from "./postgres-pending-commit-journal.js";
