import {
  type ClaimCommitProps,
  type ClaimResult,
  type Clock,
  type CommitClaim,
  type CommitLedger,
  type CompleteResult,
  type DirtySessionsProps,
  InvalidArgumentError,
  isEngramError,
  type ReapInstancesProps,
  type ReapReport,
  type SegmentOwner,
  StoreError,
  systemClock,
} from "@engram/core";
import { CompiledQuery, type Kysely, sql } from "kysely";
import type { DB } from "../db/schema/index.js";
import { QueryBatcher } from "./query-batcher.js";

export interface PostgresCommitLedgerProps {
  /**
   * Source of "now" (epoch ms) for leases and instance liveness; every process sharing the ledger
   * must read comparable clocks. Default: the system clock.
   */
  readonly clock?: Clock;
  /**
   * Commit lease bookkeeping (claim, renew, release, heartbeat, retire) with `synchronous_commit =
   * off`. Default true. Marks and completions stay fully durable either way. Losing a lease row to a
   * server crash only costs a commit that is run again (at-least-once), never a lost turn.
   */
  readonly asyncLeaseCommits?: boolean;
  /**
   * Completions too with `synchronous_commit = off`. Default false. A completion lost to a server
   * crash makes its segment uncommitted again, so the agent commits it once more: a duplicate at the
   * provider, never a lost turn. Off by default because "committed exactly once" is the promise; a
   * host that accepts a re-run commit after a database crash can turn it on for one WAL flush less
   * per turn cycle (the WAL is written in order, so an async completion is durable no later than the
   * next durable mark or the WAL writer's next flush, ~200 ms).
   */
  readonly asyncCompletions?: boolean;
  /**
   * Coalesce concurrent marks, claims and completions into batched queries (one round trip and one
   * transaction each) once `maxInFlight` queries of a kind are running. Default `{ maxInFlight: 4,
   * maxBatch: 256 }`; `false` sends every call on its own.
   */
  readonly batching?: false | { readonly maxInFlight?: number; readonly maxBatch?: number };
}

interface MarkInput {
  sessionId: string;
  owner: SegmentOwner | null;
}

interface ClaimInput {
  sessionId: string;
  instanceId: string;
  fallbackAgent: string | null;
  leaseMs: number;
}

interface ClaimRow {
  o_status: ClaimResult["status"];
  o_lease_id: number | null;
  o_start: number | null;
  o_end: number | null;
  o_owner_instance: string | null;
  o_owner_agent: string | null;
  o_expires_at: number | null;
}

// The per-turn statements as fixed texts: no template compilation per call, and the same text each
// time, so the server's plan cache for the function call is hit.
const MARK = "select engram_commit_mark($1, $2, $3) as g";
const CLAIM = "select * from engram_commit_claim($1, $2, $3, $4::bigint, $5::bigint, $6)";
const COMPLETE = "select engram_commit_complete($1, $2::bigint, $3::bigint, $4) as result";

const CLEAN = Object.freeze({ status: "clean" as const });
const NO_OWNER = Object.freeze({ status: "no_owner" as const });

/**
 * {@link CommitLedger} on PostgreSQL or PGlite, shared by every process that opens the same
 * database (migration `004-commit-ledger`). Each operation is one round trip calling a plpgsql
 * function that locks the session's row first, so operations on a session serialise across
 * processes and each sees what the previous one committed:
 *
 * - `commit_sessions`: generation counter, committed watermark, the open tail segment (newest
 *   generations of one owner) and the in-flight lease (id, holder, expiry); a claim succeeds only
 *   when no unexpired lease exists. A mark by the tail's owner, a claim of one's own tail and its
 *   completion are each a single-row UPDATE;
 * - `commit_segments`: closed segments (a turn of another owner followed); completion deletes/trims
 *   only what the claim captured (compare-and-clear on the lease id);
 * - `commit_instances`: live processes (heartbeat with expiry); segments of a lapsed instance are
 *   adopted by a claimer's fallback owner.
 *
 * It has no `waitForRelease`: waiters poll with backoff (the coordinator's default for ledgers
 * without notifications).
 */
export class PostgresCommitLedger implements CommitLedger {
  readonly #db: Kysely<DB>;
  readonly #clock: Clock;
  readonly #async: boolean;
  readonly #asyncCompletions: boolean;
  readonly #marks: QueryBatcher<MarkInput, number>;
  readonly #claims: QueryBatcher<ClaimInput, ClaimRow>;
  readonly #completions: QueryBatcher<CommitClaim, CompleteResult>;

  constructor(db: Kysely<DB>, props: PostgresCommitLedgerProps = {}) {
    this.#db = db;
    this.#clock = props.clock ?? systemClock;
    this.#async = props.asyncLeaseCommits ?? true;
    this.#asyncCompletions = props.asyncCompletions ?? false;
    const batching =
      props.batching === false ? { maxInFlight: Number.POSITIVE_INFINITY, maxBatch: 1 } : props.batching;
    const maxInFlight = batching?.maxInFlight ?? 4;
    const maxBatch = batching?.maxBatch ?? 256;
    if (!(maxInFlight >= 1) || !(maxBatch >= 1)) {
      throw new InvalidArgumentError("batching", "maxInFlight and maxBatch must be >= 1");
    }
    this.#marks = new QueryBatcher({
      maxInFlight,
      maxBatch,
      single: (input) => this.#markOne(input),
      batch: (inputs) => this.#markMany(inputs),
    });
    this.#claims = new QueryBatcher({
      maxInFlight,
      maxBatch,
      single: (input) => this.#claimOne(input),
      batch: (inputs) => this.#claimMany(inputs),
    });
    this.#completions = new QueryBatcher({
      maxInFlight,
      maxBatch,
      single: (claim) => this.#completeOne(claim),
      batch: (claims) => this.#completeMany(claims),
    });
  }

  async #guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isEngramError(error)) throw error;
      throw new StoreError(`commit-ledger.${operation}`, error);
    }
  }

  markTurnCompleted(sessionId: string, owner: SegmentOwner | null): Promise<number> {
    return this.#guard("markTurnCompleted", () => this.#marks.run({ sessionId, owner }));
  }

  async #markOne({ sessionId, owner }: MarkInput): Promise<number> {
    const { rows } = await this.#db.executeQuery<{ g: number }>(
      CompiledQuery.raw(MARK, [sessionId, owner?.instanceId ?? null, owner?.agentId ?? null]),
    );
    return Number(rows[0]!.g);
  }

  async #markMany(inputs: MarkInput[]): Promise<number[]> {
    const { rows } = await sql<{ o_ord: number; o_generation: number }>`
      select o_ord, o_generation from engram_commit_mark_batch(
        ${inputs.map((i) => i.sessionId)}::text[],
        ${inputs.map((i) => i.owner?.instanceId ?? null)}::text[],
        ${inputs.map((i) => i.owner?.agentId ?? null)}::text[]
      )
    `.execute(this.#db);
    const out = new Array<number>(inputs.length);
    for (const row of rows) out[Number(row.o_ord) - 1] = Number(row.o_generation);
    return out;
  }

  generationOf(sessionId: string): Promise<number> {
    return this.#guard("generationOf", async () => {
      const row = await this.#db
        .selectFrom("commit_sessions")
        .select("generation")
        .where("session_id", "=", sessionId)
        .executeTakeFirst();
      return row === undefined ? 0 : Number(row.generation);
    });
  }

  hasUncommittedWork(sessionId: string): Promise<boolean> {
    return this.#guard("hasUncommittedWork", async () => {
      const row = await this.#db
        .selectFrom("commit_sessions")
        .select(sql<boolean>`generation > committed`.as("dirty"))
        .where("session_id", "=", sessionId)
        .executeTakeFirst();
      return row?.dirty === true;
    });
  }

  claimCommit(sessionId: string, props: ClaimCommitProps): Promise<ClaimResult> {
    const fallback = props.fallbackOwner ?? null;
    if (fallback !== null && fallback.instanceId !== props.instanceId) {
      throw new InvalidArgumentError("fallbackOwner", "must belong to the claiming instance");
    }
    return this.#guard("claimCommit", async () => {
      const row = await this.#claims.run({
        sessionId,
        instanceId: props.instanceId,
        fallbackAgent: fallback?.agentId ?? null,
        leaseMs: props.leaseMs,
      });
      switch (row.o_status) {
        case "claimed":
          return {
            status: "claimed",
            sessionId,
            leaseId: Number(row.o_lease_id),
            instanceId: props.instanceId,
            start: Number(row.o_start),
            end: Number(row.o_end),
            owner: { instanceId: row.o_owner_instance!, agentId: row.o_owner_agent! },
            expiresAt: Number(row.o_expires_at),
          } satisfies CommitClaim;
        case "in_flight":
          return { status: "in_flight", expiresAt: Number(row.o_expires_at) };
        case "foreign_owner":
          return {
            status: "foreign_owner",
            owner: { instanceId: row.o_owner_instance!, agentId: row.o_owner_agent! },
          };
        case "no_owner":
          return NO_OWNER;
        default:
          return CLEAN;
      }
    });
  }

  async #claimOne(input: ClaimInput): Promise<ClaimRow> {
    const { rows } = await this.#db.executeQuery<ClaimRow>(
      CompiledQuery.raw(CLAIM, [
        input.sessionId,
        input.instanceId,
        input.fallbackAgent,
        input.leaseMs,
        this.#clock.now(),
        this.#async,
      ]),
    );
    return rows[0]!;
  }

  async #claimMany(inputs: ClaimInput[]): Promise<ClaimRow[]> {
    const { rows } = await sql<ClaimRow & { o_ord: number }>`
      select * from engram_commit_claim_batch(
        ${inputs.map((i) => i.sessionId)}::text[],
        ${inputs.map((i) => i.instanceId)}::text[],
        ${inputs.map((i) => i.fallbackAgent)}::text[],
        ${inputs.map((i) => i.leaseMs)}::bigint[],
        ${this.#clock.now()}::bigint,
        ${this.#async}
      )
    `.execute(this.#db);
    const out = new Array<ClaimRow>(inputs.length);
    for (const row of rows) out[Number(row.o_ord) - 1] = row;
    return out;
  }

  renewCommit(claim: CommitClaim, leaseMs: number): Promise<boolean> {
    return this.#guard("renewCommit", async () => {
      const { rows } = await sql<{ ok: boolean }>`
        select engram_commit_renew(
          ${claim.sessionId}, ${claim.leaseId}::bigint, ${leaseMs}::bigint, ${this.#clock.now()}::bigint, ${this.#async}
        ) as ok
      `.execute(this.#db);
      return rows[0]?.ok === true;
    });
  }

  completeCommit(claim: CommitClaim): Promise<CompleteResult> {
    return this.#guard("completeCommit", () => this.#completions.run(claim));
  }

  async #completeOne(claim: CommitClaim): Promise<CompleteResult> {
    const { rows } = await this.#db.executeQuery<{ result: CompleteResult }>(
      CompiledQuery.raw(COMPLETE, [claim.sessionId, claim.leaseId, claim.end, this.#asyncCompletions]),
    );
    return rows[0]!.result;
  }

  async #completeMany(claims: CommitClaim[]): Promise<CompleteResult[]> {
    const { rows } = await sql<{ o_ord: number; o_result: CompleteResult }>`
      select o_ord, o_result from engram_commit_complete_batch(
        ${claims.map((c) => c.sessionId)}::text[],
        ${claims.map((c) => c.leaseId)}::bigint[],
        ${claims.map((c) => c.end)}::bigint[],
        ${this.#asyncCompletions}
      )
    `.execute(this.#db);
    const out = new Array<CompleteResult>(claims.length);
    for (const row of rows) out[Number(row.o_ord) - 1] = row.o_result;
    return out;
  }

  releaseCommit(claim: CommitClaim): Promise<boolean> {
    return this.#guard("releaseCommit", async () => {
      const { rows } = await sql<{ ok: boolean }>`
        select engram_commit_release(${claim.sessionId}, ${claim.leaseId}::bigint, ${this.#async}) as ok
      `.execute(this.#db);
      return rows[0]?.ok === true;
    });
  }

  dirtySessions(props: DirtySessionsProps = {}): Promise<string[]> {
    return this.#guard("dirtySessions", async () => {
      const instanceId = props.committableBy;
      const limit = props.limit === undefined ? sql`` : sql`limit ${props.limit}`;
      const { rows } =
        instanceId === undefined
          ? await sql<{ session_id: string }>`
              select session_id from commit_sessions where generation > committed order by session_id ${limit}
            `.execute(this.#db)
          : await sql<{ session_id: string }>`
              select s.session_id
                from commit_sessions s
                left join lateral (
                  select g.owner_instance from commit_segments g
                   where s.closed_count > 0 and g.session_id = s.session_id and g.end_gen > s.committed
                   order by g.start_gen limit 1
                ) closed on true
                cross join lateral (
                  select case when s.closed_count > 0 then closed.owner_instance else s.tail_instance end as owner
                ) head
               where s.generation > s.committed
                 and (
                   head.owner is null
                   or head.owner = ${instanceId}
                   or not exists (
                     select 1 from commit_instances i
                      where i.instance_id = head.owner and i.expires_at > ${this.#clock.now()}::bigint
                   )
                 )
               order by s.session_id ${limit}
            `.execute(this.#db);
      return rows.map((row) => row.session_id);
    });
  }

  heartbeat(instanceId: string, ttlMs: number): Promise<void> {
    return this.#guard("heartbeat", async () => {
      const expiresAt = this.#clock.now() + ttlMs;
      await this.#db.transaction().execute(async (trx) => {
        if (this.#async) await sql`set local synchronous_commit = off`.execute(trx);
        await trx
          .insertInto("commit_instances")
          .values({ instance_id: instanceId, expires_at: expiresAt })
          .onConflict((oc) => oc.column("instance_id").doUpdateSet({ expires_at: expiresAt }))
          .execute();
      });
    });
  }

  retireInstance(instanceId: string): Promise<void> {
    return this.#guard("retireInstance", async () => {
      await this.#db.deleteFrom("commit_instances").where("instance_id", "=", instanceId).execute();
    });
  }

  reapInstances({ prefix, keep }: ReapInstancesProps): Promise<ReapReport> {
    if (!prefix) throw new InvalidArgumentError("prefix", "must be a non-empty string");
    return this.#guard("reapInstances", () =>
      this.#db.transaction().execute(async (trx) => {
        // `starts_with`, not LIKE: the prefix is data, and `_` or `%` in it must match only themselves.
        const gone = await trx
          .deleteFrom("commit_instances")
          .where(sql<boolean>`starts_with(instance_id, ${prefix})`)
          .where("instance_id", "<>", keep)
          .returning("instance_id")
          .execute();
        // A scan of the session rows (leases are not indexed, to keep lease updates HOT): this runs
        // once per unclean start, never on the turn path.
        const released = await trx
          .updateTable("commit_sessions")
          .set({ lease_id: null, lease_instance: null, lease_expires_at: null })
          .where(sql<boolean>`starts_with(lease_instance, ${prefix})`)
          .where("lease_instance", "<>", keep)
          .executeTakeFirst();
        return {
          instances: gone.map((row) => row.instance_id).sort(),
          releasedLeases: Number(released.numUpdatedRows),
        };
      }),
    );
  }
}
