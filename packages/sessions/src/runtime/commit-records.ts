import type {
  ClaimCommitProps,
  ClaimResult,
  Clock,
  CommitClaim,
  CommitLedger,
  CompleteResult,
  DirtySessionsProps,
  Logger,
  MaybePromise,
  ReapInstancesProps,
  ReapReport,
  SegmentOwner,
} from "@engram/core";
import { type Kysely, sql } from "kysely";
import type { SessionsDB } from "../db/schema/index.js";

/** A session's last completed memory commit. */
export interface CommitRecord {
  /** Epoch ms the commit completed. */
  readonly at: number;
  /** The ledger generation it reached: every turn up to it is committed. */
  readonly through: number;
}

/** Where completed commits are recorded (the ledger keeps counters, not times). */
export interface CommitRecords {
  record(sessionId: string, record: CommitRecord): Promise<void>;
  lastCommitOf(sessionId: string): Promise<CommitRecord | undefined>;
}

/** {@link CommitRecords} on the runtime's `session_commits` table (`migrateSessions`). */
export class PostgresCommitRecords implements CommitRecords {
  readonly #db: Kysely<SessionsDB>;

  constructor(db: Kysely<SessionsDB>) {
    this.#db = db;
  }

  async record(sessionId: string, record: CommitRecord): Promise<void> {
    const at = new Date(record.at);
    await this.#db
      .insertInto("session_commits")
      .values({ session_id: sessionId, committed_through: record.through, committed_at: at })
      // Never moves back: a late completion of an earlier segment keeps the newer record.
      .onConflict((oc) =>
        oc.column("session_id").doUpdateSet({
          committed_through: sql`greatest(session_commits.committed_through, excluded.committed_through)`,
          committed_at: sql`greatest(session_commits.committed_at, excluded.committed_at)`,
        }),
      )
      .execute();
  }

  async lastCommitOf(sessionId: string): Promise<CommitRecord | undefined> {
    const row = await this.#db
      .selectFrom("session_commits")
      .select(["committed_through", "committed_at"])
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    return row && { at: row.committed_at.getTime(), through: Number(row.committed_through) };
  }
}

/**
 * A {@link CommitLedger} that also records each completed commit in {@link CommitRecords}, whoever
 * completes it (a boundary, a sweep, a retry, a drain): every commit ends in `completeCommit`. The
 * record is written after the ledger cleared the work; a failure to write it is logged, never raised,
 * so it cannot make a done commit look failed (and run again).
 */
export class RecordingCommitLedger implements CommitLedger {
  readonly #ledger: CommitLedger;
  readonly #records: CommitRecords;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly waitForRelease?: (sessionId: string, timeoutMs: number) => Promise<void>;

  constructor(ledger: CommitLedger, records: CommitRecords, props: { clock: Clock; logger?: Logger }) {
    this.#ledger = ledger;
    this.#records = records;
    this.#clock = props.clock;
    this.#logger = props.logger;
    if (ledger.waitForRelease) {
      const wait = ledger.waitForRelease.bind(ledger);
      this.waitForRelease = (sessionId, timeoutMs) => wait(sessionId, timeoutMs);
    }
  }

  async completeCommit(claim: CommitClaim): Promise<CompleteResult> {
    const result = await this.#ledger.completeCommit(claim);
    if (result !== "lost") {
      await this.#records
        .record(claim.sessionId, { at: this.#clock.now(), through: claim.end })
        .catch((error: unknown) =>
          this.#logger?.warn({ sessionId: claim.sessionId, err: error }, "commit time not recorded"),
        );
    }
    return result;
  }

  markTurnCompleted(sessionId: string, owner: SegmentOwner | null): MaybePromise<number> {
    return this.#ledger.markTurnCompleted(sessionId, owner);
  }
  hasUncommittedWork(sessionId: string): MaybePromise<boolean> {
    return this.#ledger.hasUncommittedWork(sessionId);
  }
  generationOf(sessionId: string): MaybePromise<number> {
    return this.#ledger.generationOf(sessionId);
  }
  claimCommit(sessionId: string, props: ClaimCommitProps): MaybePromise<ClaimResult> {
    return this.#ledger.claimCommit(sessionId, props);
  }
  renewCommit(claim: CommitClaim, leaseMs: number): MaybePromise<boolean> {
    return this.#ledger.renewCommit(claim, leaseMs);
  }
  releaseCommit(claim: CommitClaim): MaybePromise<boolean> {
    return this.#ledger.releaseCommit(claim);
  }
  dirtySessions(props?: DirtySessionsProps): MaybePromise<string[]> {
    return this.#ledger.dirtySessions(props);
  }
  heartbeat(instanceId: string, ttlMs: number): MaybePromise<void> {
    return this.#ledger.heartbeat(instanceId, ttlMs);
  }
  retireInstance(instanceId: string): MaybePromise<void> {
    return this.#ledger.retireInstance(instanceId);
  }
  reapInstances(props: ReapInstancesProps): MaybePromise<ReapReport> {
    return this.#ledger.reapInstances(props);
  }
}
