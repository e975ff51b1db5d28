import {
  type AppendWebMessagesOptions,
  type AppendWebMessagesResult,
  assertSafeId,
  assertTruncateOptions,
  assertWebProjectFields,
  assertWebSessionFields,
  type Clock,
  ConflictError,
  DEFAULT_MAX_MESSAGE_BYTES,
  EMPTY_SESSION_GRACE_MS,
  type ImportWebSessionOptions,
  InvalidArgumentError,
  isEngramError,
  type ListWebSessionsOptions,
  type NewTranscriptMessage,
  type NewWebProject,
  type NewWebSession,
  NotFoundError,
  newWebSessionId,
  prepareTranscriptMessage,
  SessionNotFoundError,
  StoreError,
  systemClock,
  type TruncateWebMessagesOptions,
  WEB_SOURCE,
  type WebProject,
  type WebProjectPatch,
  type WebSession,
  type WebSessionPatch,
  type WebSessionStore,
  type WebSessionSummary,
  webListPage,
} from "@engram/core";
import { type Kysely, sql, type Transaction } from "kysely";
import type { DB } from "../db/schema/index.js";
import {
  isUniqueViolation,
  MESSAGE_COLUMNS,
  toMessageInsertRow,
  toTranscriptMessage,
} from "../transcripts/transcript-rows.js";
import {
  type SummaryRow,
  selectSummaries,
  selectWebSessionPage,
  toWebProject,
  toWebSessionSummary,
} from "./web-session-rows.js";

export interface PostgresWebSessionStoreProps {
  /** Source of "now" for timestamps and the empty-session grace period (default: the system clock). */
  readonly clock?: Clock;
  /** Id generator for sessions and projects created without one (default: 12 random hex digits). */
  readonly newId?: () => string;
  /** Largest message accepted, in UTF-8 bytes of content plus serialised JSON (default 1 MiB). */
  readonly maxMessageBytes?: number;
}

const INSERT_CHUNK = 500;

function countMismatch(sessionId: string, count: number, expectedCount: number): ConflictError {
  return new ConflictError(
    `Session ${JSON.stringify(sessionId)} has ${count} messages, the caller expected ${expectedCount}`,
    { sessionId, count, expectedCount },
  );
}

/**
 * {@link WebSessionStore} on PostgreSQL or PGlite. Web sessions are rows of the transcript store's
 * `sessions` table with `web_visible` set (migration 003 adds the web columns); messages are the
 * transcript's `messages` rows, so a CLI or gateway session is imported by flipping one column.
 *
 * Metadata writes are single column-level UPDATEs of the session row and never mention `messages`;
 * the only message writes are the append transaction and the guarded truncate, which lock the
 * session row first so counters and the expected-count checks cannot race.
 */
export class PostgresWebSessionStore implements WebSessionStore {
  readonly #db: Kysely<DB>;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #maxMessageBytes: number;

  constructor(db: Kysely<DB>, props: PostgresWebSessionStoreProps = {}) {
    this.#db = db;
    this.#clock = props.clock ?? systemClock;
    this.#newId = props.newId ?? newWebSessionId;
    this.#maxMessageBytes = props.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Our own errors pass through; unique violations become `CONFLICT`; anything else `STORE_FAILED`. */
  async #guard<T>(operation: string, work: () => Promise<T>, conflict?: () => ConflictError): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isEngramError(error)) throw error;
      if (isUniqueViolation(error)) {
        const mapped = conflict?.() ?? new ConflictError(`${operation}: a unique value is already taken`);
        throw Object.assign(mapped, { cause: error });
      }
      throw new StoreError(operation, error);
    }
  }

  async #summary(db: Kysely<DB>, sessionId: string): Promise<WebSessionSummary | undefined> {
    const row = await selectSummaries(db).where("s.id", "=", sessionId).executeTakeFirst();
    return row ? toWebSessionSummary(row as SummaryRow) : undefined;
  }

  async #requireSummary(db: Kysely<DB>, sessionId: string): Promise<WebSessionSummary> {
    const summary = await this.#summary(db, sessionId);
    if (!summary) throw new SessionNotFoundError(sessionId);
    return summary;
  }

  /** Locks the live web session row for the rest of `trx`; `SESSION_NOT_FOUND` when there is none. */
  async #lockSession(trx: Transaction<DB>, sessionId: string): Promise<{ message_count: number }> {
    const row = await trx
      .selectFrom("sessions")
      .select("message_count")
      .where("id", "=", sessionId)
      .where("deleted_at", "is", null)
      .where("web_visible", "=", true)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new SessionNotFoundError(sessionId);
    return { message_count: Number(row.message_count) };
  }

  /** Key-share locks the project so a concurrent delete cannot leave a session pointing at nothing. */
  async #requireProject(trx: Transaction<DB>, projectId: string): Promise<void> {
    const row = await trx
      .selectFrom("web_projects")
      .select("id")
      .where("id", "=", projectId)
      .forKeyShare()
      .executeTakeFirst();
    if (!row) throw new NotFoundError("project", projectId);
  }

  async list(options: ListWebSessionsOptions = {}): Promise<WebSessionSummary[]> {
    const { limit, offset } = webListPage(options);
    if (options.profile !== undefined) assertWebSessionFields({ profile: options.profile });
    const hideBefore = new Date(this.#clock.now() - EMPTY_SESSION_GRACE_MS);
    return this.#guard("web.list", async () => {
      const rows = await selectWebSessionPage(this.#db, options, { hideBefore, limit, offset }).execute();
      return rows.map((row) => toWebSessionSummary(row as SummaryRow));
    });
  }

  async getSummary(sessionId: string): Promise<WebSessionSummary | undefined> {
    assertSafeId("session id", sessionId);
    return this.#guard("web.getSummary", () => this.#summary(this.#db, sessionId));
  }

  async get(sessionId: string): Promise<WebSession | undefined> {
    assertSafeId("session id", sessionId);
    return this.#guard("web.get", async () => {
      // Summary first, messages second: a concurrent append can only make the messages newer than the
      // summary, never older, so a cache that validates on `updatedAt` never keeps a short transcript.
      const summary = await this.#summary(this.#db, sessionId);
      if (!summary) return undefined;
      const rows = await this.#db
        .selectFrom("messages")
        .select(MESSAGE_COLUMNS)
        .where("session_id", "=", sessionId)
        .where("active", "=", true)
        .orderBy("id")
        .execute();
      return { ...summary, messages: rows.map(toTranscriptMessage) };
    });
  }

  async create(input: NewWebSession = {}): Promise<WebSessionSummary> {
    const id = input.id ?? this.#newId();
    assertSafeId("session id", id);
    assertWebSessionFields(input);
    const now = new Date(this.#clock.now());
    return this.#guard(
      "web.create",
      () =>
        this.#db.transaction().execute(async (trx) => {
          if (input.projectId != null) await this.#requireProject(trx, input.projectId);
          const inserted = await trx
            .insertInto("sessions")
            .values({
              id,
              source: WEB_SOURCE,
              web_visible: true,
              title: input.title ?? null,
              workspace: input.workspace ?? null,
              model: input.model ?? null,
              personality: input.personality ?? null,
              profile: input.profile ?? null,
              project_id: input.projectId ?? null,
              started_at: now,
              updated_at: now,
            })
            .onConflict((oc) => oc.column("id").doNothing())
            .returning("id")
            .executeTakeFirst();
          if (!inserted) throw new ConflictError(`Session ${JSON.stringify(id)} already exists`, { id });
          return this.#requireSummary(trx, id);
        }),
      () => new ConflictError(`Title ${JSON.stringify(input.title)} is already used by another session`),
    );
  }

  async updateMetadata(sessionId: string, patch: WebSessionPatch): Promise<WebSessionSummary> {
    assertSafeId("session id", sessionId);
    assertWebSessionFields(patch);
    const now = new Date(this.#clock.now());
    const set = {
      ...(patch.title === undefined ? {} : { title: patch.title }),
      ...(patch.workspace === undefined ? {} : { workspace: patch.workspace }),
      ...(patch.model === undefined ? {} : { model: patch.model }),
      ...(patch.personality === undefined ? {} : { personality: patch.personality }),
      ...(patch.pinned === undefined ? {} : { pinned: patch.pinned }),
      ...(patch.archived === undefined ? {} : { archived: patch.archived }),
      ...(patch.projectId === undefined ? {} : { project_id: patch.projectId }),
      updated_at: now,
    };
    const write = async (db: Kysely<DB>) => {
      // Only the named columns: messages are not part of this statement, whatever the caller holds.
      const row = await db
        .updateTable("sessions")
        .set(set)
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .where("web_visible", "=", true)
        .returning("id")
        .executeTakeFirst();
      if (!row) throw new SessionNotFoundError(sessionId);
      return this.#requireSummary(db, sessionId);
    };
    return this.#guard(
      "web.updateMetadata",
      () =>
        patch.projectId == null
          ? write(this.#db)
          : this.#db.transaction().execute(async (trx) => {
              await this.#requireProject(trx, patch.projectId as string);
              return write(trx);
            }),
      () => new ConflictError(`Title ${JSON.stringify(patch.title)} is already used by another session`),
    );
  }

  async delete(sessionId: string): Promise<void> {
    assertSafeId("session id", sessionId);
    const now = new Date(this.#clock.now());
    return this.#guard("web.delete", async () => {
      const row = await this.#db
        .updateTable("sessions")
        .set({ deleted_at: now, updated_at: now })
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .where("web_visible", "=", true)
        .returning("id")
        .executeTakeFirst();
      if (!row) throw new SessionNotFoundError(sessionId);
    });
  }

  async appendMessages(
    sessionId: string,
    messages: readonly NewTranscriptMessage[],
    options: AppendWebMessagesOptions = {},
  ): Promise<AppendWebMessagesResult> {
    assertSafeId("session id", sessionId);
    if (!Array.isArray(messages)) throw new InvalidArgumentError("messages", "must be an array");
    const { expectedCount } = options;
    if (expectedCount !== undefined && (!Number.isInteger(expectedCount) || expectedCount < 0)) {
      throw new InvalidArgumentError("expectedCount", "must be a non-negative integer");
    }
    const nowMs = this.#clock.now();
    // Validate and serialise everything before the transaction: a bad message means nothing is written.
    const prepared = messages.map((message) =>
      prepareTranscriptMessage(message, this.#maxMessageBytes, nowMs),
    );
    const now = new Date(nowMs);
    return this.#guard(
      "web.appendMessages",
      () =>
        this.#db.transaction().execute(async (trx) => {
          const { message_count } = await this.#lockSession(trx, sessionId);
          if (expectedCount !== undefined && message_count !== expectedCount) {
            throw countMismatch(sessionId, message_count, expectedCount);
          }
          const appended = [];
          for (let start = 0; start < prepared.length; start += INSERT_CHUNK) {
            const chunk = prepared.slice(start, start + INSERT_CHUNK);
            const rows = await trx
              .insertInto("messages")
              .values(chunk.map((message) => toMessageInsertRow(sessionId, message)))
              .returning(MESSAGE_COLUMNS)
              .execute();
            appended.push(...rows.map(toTranscriptMessage).sort((a, b) => a.id - b.id));
          }
          const sum = (pick: (message: (typeof prepared)[number]) => number) =>
            prepared.reduce((total, message) => total + pick(message), 0);
          await trx
            .updateTable("sessions")
            .set((eb) => ({
              message_count: eb("message_count", "+", prepared.length),
              tool_call_count: eb(
                "tool_call_count",
                "+",
                sum((message) => message.toolCallCount),
              ),
              input_tokens: eb(
                "input_tokens",
                "+",
                sum((message) => message.inputTokens),
              ),
              output_tokens: eb(
                "output_tokens",
                "+",
                sum((message) => message.outputTokens),
              ),
              cost_usd: eb(
                "cost_usd",
                "+",
                sum((message) => message.costUsd),
              ),
              updated_at: now,
            }))
            .where("id", "=", sessionId)
            .execute();
          return { appended, summary: await this.#requireSummary(trx, sessionId) };
        }),
      () =>
        new ConflictError("appendMessages: a platformMessageId is already stored in this session", {
          sessionId,
        }),
    );
  }

  async truncateMessages(sessionId: string, options: TruncateWebMessagesOptions): Promise<number> {
    assertSafeId("session id", sessionId);
    assertTruncateOptions(options);
    const now = new Date(this.#clock.now());
    return this.#guard("web.truncateMessages", () =>
      this.#db.transaction().execute(async (trx) => {
        const { message_count } = await this.#lockSession(trx, sessionId);
        if (message_count !== options.expectedCount) {
          throw countMismatch(sessionId, message_count, options.expectedCount);
        }
        if (options.keep >= message_count) return message_count;
        // Soft delete (active = false), as the transcript store's rewind does: kept for audit.
        await sql`
          update messages set active = false
          where session_id = ${sessionId} and active and id not in (
            select id from messages where session_id = ${sessionId} and active order by id limit ${options.keep}
          )
        `.execute(trx);
        const row = await trx
          .updateTable("sessions")
          .set({
            message_count: sql<number>`(select count(*) from messages where session_id = ${sessionId} and active)`,
            tool_call_count: sql<number>`(
              select coalesce(sum(case when jsonb_typeof(tool_calls) = 'array' then jsonb_array_length(tool_calls) else 0 end), 0)
              from messages where session_id = ${sessionId} and active
            )`,
            updated_at: now,
          })
          .where("id", "=", sessionId)
          .returning("message_count")
          .executeTakeFirstOrThrow();
        return Number(row.message_count);
      }),
    );
  }

  async importSession(sessionId: string, options: ImportWebSessionOptions = {}): Promise<WebSessionSummary> {
    assertSafeId("session id", sessionId);
    assertWebSessionFields(options);
    return this.#guard(
      "web.importSession",
      async () => {
        // Flags the transcript row in place: no message is copied or touched, and `updated_at` keeps
        // the session's real last activity so an old CLI session does not jump to the top.
        const row = await this.#db
          .updateTable("sessions")
          .set((eb) => ({
            web_visible: true,
            title: eb.fn.coalesce("title", sql<string | null>`${options.title ?? null}::text`),
            profile: eb.fn.coalesce("profile", sql<string | null>`${options.profile ?? null}::text`),
            workspace: eb.fn.coalesce("workspace", sql<string | null>`${options.workspace ?? null}::text`),
          }))
          .where("id", "=", sessionId)
          .where("deleted_at", "is", null)
          .returning("id")
          .executeTakeFirst();
        if (!row) throw new SessionNotFoundError(sessionId);
        return this.#requireSummary(this.#db, sessionId);
      },
      () => new ConflictError(`Title ${JSON.stringify(options.title)} is already used by another session`),
    );
  }

  async listProjects(): Promise<WebProject[]> {
    return this.#guard("web.listProjects", async () => {
      const rows = await this.#db
        .selectFrom("web_projects")
        .selectAll()
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      return rows.map(toWebProject);
    });
  }

  async createProject(input: NewWebProject): Promise<WebProject> {
    assertWebProjectFields(input, { requireName: true });
    const id = input.id ?? this.#newId();
    assertSafeId("project id", id);
    const now = new Date(this.#clock.now());
    return this.#guard(
      "web.createProject",
      async () => {
        const row = await this.#db
          .insertInto("web_projects")
          .values({ id, name: input.name, color: input.color ?? null, created_at: now, updated_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toWebProject(row);
      },
      () => new ConflictError(`Project ${JSON.stringify(id)} already exists`, { id }),
    );
  }

  async updateProject(projectId: string, patch: WebProjectPatch): Promise<WebProject> {
    assertSafeId("project id", projectId);
    assertWebProjectFields(patch, { requireName: false });
    const now = new Date(this.#clock.now());
    return this.#guard("web.updateProject", async () => {
      const row = await this.#db
        .updateTable("web_projects")
        .set({
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.color === undefined ? {} : { color: patch.color }),
          updated_at: now,
        })
        .where("id", "=", projectId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFoundError("project", projectId);
      return toWebProject(row);
    });
  }

  async deleteProject(projectId: string): Promise<boolean> {
    assertSafeId("project id", projectId);
    return this.#guard("web.deleteProject", () =>
      this.#db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom("web_projects")
          .where("id", "=", projectId)
          .returning("id")
          .executeTakeFirst();
        if (!deleted) return false;
        // Project membership is metadata, not activity: `updated_at` is left alone.
        await trx
          .updateTable("sessions")
          .set({ project_id: null })
          .where("project_id", "=", projectId)
          .execute();
        return true;
      }),
    );
  }
}
