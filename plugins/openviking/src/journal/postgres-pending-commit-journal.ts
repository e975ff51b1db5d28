import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { OpenVikingDB } from "../db/index.js";
import type { ClaimedMarker, PendingCommitJournal } from "./pending-commit-journal.js";

export interface PostgresPendingCommitJournalProps {
  /** The migrated database (`migrateOpenViking`), shared with @engram/store. */
  readonly db: Kysely<OpenVikingDB>;
  /** The OpenViking server the markers refer to. */
  readonly serverUrl: string;
  /** This process's id; markers of any other id are leftovers. Default: a random UUID per journal. */
  readonly instanceId?: string;
}

/**
 * {@link PendingCommitJournal} in PostgreSQL / PGlite (table `openviking_pending_commits`). Every write
 * is one statement; a claim moves the markers other instances wrote before this one started
 * to this instance with one `UPDATE ... RETURNING` over rows locked with `SKIP LOCKED`, so processes
 * starting together never both claim the same marker.
 *
 * There is no liveness check: a process started while another is running takes the markers of the
 * running one's open sessions too. The cost is an early commit of those sessions (their later turns are
 * committed by their own process at its boundary), never a lost or twice-archived message: the server
 * archives what its buffer holds at each commit.
 */
export class PostgresPendingCommitJournal implements PendingCommitJournal {
  readonly #db: Kysely<OpenVikingDB>;
  readonly #serverUrl: string;
  readonly instanceId: string;
  /** The database's clock when this journal first ran a query: markers older than that are leftovers. */
  #startedAt: Promise<Date> | undefined;

  constructor(props: PostgresPendingCommitJournalProps) {
    this.#db = props.db;
    this.#serverUrl = props.serverUrl;
    this.instanceId = props.instanceId ?? randomUUID();
  }

  /**
   * Fixes this instance's start (the database clock): call it when the process starts, so markers written
   * later by other processes are never taken as leftovers. Otherwise the first query fixes it.
   */
  async start(): Promise<void> {
    await this.#started();
  }

  #started(): Promise<Date> {
    this.#startedAt ??= sql<{ now: Date }>`select now() as now`
      .execute(this.#db)
      .then(({ rows }) => new Date(rows[0]!.now));
    return this.#startedAt;
  }

  async markSynced(sessionId: string): Promise<number> {
    await this.#started();
    const row = await this.#db
      .insertInto("openviking_pending_commits")
      .values({
        server_url: this.#serverUrl,
        session_id: sessionId,
        instance_id: this.instanceId,
        sequence: sql<string>`nextval('openviking_pending_commit_seq')`,
      })
      .onConflict((oc) =>
        oc.columns(["server_url", "session_id"]).doUpdateSet({
          instance_id: this.instanceId,
          sequence: sql<string>`nextval('openviking_pending_commit_seq')`,
          synced_at: sql<Date>`now()`,
        }),
      )
      .returning("sequence")
      .executeTakeFirstOrThrow();
    return Number(row.sequence);
  }

  async markCommitted(sessionId: string, sequence: number): Promise<void> {
    await this.#db
      .deleteFrom("openviking_pending_commits")
      .where("server_url", "=", this.#serverUrl)
      .where("session_id", "=", sessionId)
      .where("sequence", "<=", sequence)
      .execute();
  }

  async claimLeftovers(): Promise<readonly ClaimedMarker[]> {
    const startedAt = await this.#started();
    // Leftovers are other instances' markers written before this one started. A claim restamps them, so
    // no process started earlier takes them again (a waiting UPDATE re-checks the restamped row and skips
    // it); SKIP LOCKED just spares the wait for markers another process is claiming right now.
    const { rows } = await sql<{ session_id: string; sequence: string }>`
      update openviking_pending_commits p
         set instance_id = ${this.instanceId}, synced_at = now()
        from (
          select server_url, session_id from openviking_pending_commits
           where server_url = ${this.#serverUrl} and instance_id <> ${this.instanceId}
             and synced_at < ${startedAt}
           for update skip locked
        ) leftover
       where p.server_url = leftover.server_url and p.session_id = leftover.session_id
      returning p.session_id, p.sequence
    `.execute(this.#db);
    return rows.map((row) => ({ sessionId: row.session_id, sequence: Number(row.sequence) }));
  }

  /** Sessions with a marker for this server, any instance (for tests and diagnostics). */
  async pendingSessions(): Promise<string[]> {
    const rows = await this.#db
      .selectFrom("openviking_pending_commits")
      .select("session_id")
      .where("server_url", "=", this.#serverUrl)
      .orderBy("session_id")
      .execute();
    return rows.map((row) => row.session_id);
  }
}
