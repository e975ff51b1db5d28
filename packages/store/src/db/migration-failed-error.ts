import { EngramError } from "@engram/core";
import type { MigrationResult } from "kysely";

/**
 * A migration run stopped. `results` has one entry per migration the run touched: `Success` ones were
 * committed together with the failed one only when the backend supports transactional DDL (Postgres
 * and PGlite do, so on them nothing of the failed run is applied); `NotExecuted` ones never ran.
 * `cause` is the driver error.
 */
export class MigrationFailedError extends EngramError {
  readonly results: readonly MigrationResult[];
  readonly failedMigration: string | undefined;

  constructor(migrationTableName: string, results: readonly MigrationResult[], cause: unknown) {
    const failed = results.find((result) => result.status === "Error")?.migrationName;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      "MIGRATION_FAILED",
      failed
        ? `Migration ${JSON.stringify(failed)} (table ${migrationTableName}) failed: ${reason}`
        : `Migrations tracked in ${migrationTableName} could not run: ${reason}`,
      { cause, details: { migrationTableName, failedMigration: failed, results: [...results] } },
    );
    this.name = "MigrationFailedError";
    this.results = results;
    this.failedMigration = failed;
  }
}
