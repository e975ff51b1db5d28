import {
  type AppendTranscriptMessageResult,
  assertSafeId,
  type Clock,
  COMPRESSION_END_REASON,
  ConflictError,
  DEFAULT_MAX_MESSAGE_BYTES,
  type EndTranscriptSessionResult,
  InvalidArgumentError,
  isEngramError,
  isRecoverableSession,
  type ListTranscriptSessionsOptions,
  MAX_SESSION_KEY_LENGTH,
  type NewTranscriptMessage,
  type NewTranscriptSession,
  NotFoundError,
  type PlatformMessageRecord,
  type PreparedTranscriptMessage,
  prepareTranscriptMessage,
  type SearchTranscriptOptions,
  SessionNotFoundError,
  StoreError,
  systemClock,
  type TranscriptMessage,
  type TranscriptPeer,
  type TranscriptRewindResult,
  type TranscriptRole,
  type TranscriptScope,
  type TranscriptSearchHit,
  type TranscriptSession,
  type TranscriptSessionListItem,
  type TranscriptSessionPatch,
  type TranscriptStore,
  type TranscriptUserMessage,
  transcriptMessageText,
} from "@engram/core";
import { type ExpressionBuilder, type Kysely, sql, type Transaction } from "kysely";
import type { DB } from "../db/schema/index.js";

import {
  isUniqueViolation,
  MESSAGE_COLUMNS,
  toEpochMs,
  toMessageInsertRow,
  toTranscriptMessage,
  toTranscriptSession,
} from "./transcript-rows.js";

export interface PostgresTranscriptStoreProps {
  /** Source of "now" for timestamps (default: the system clock). */
  readonly clock?: Clock;
  /** Largest message accepted, in UTF-8 bytes of content plus serialised JSON (default 1 MiB). */
  readonly maxMessageBytes?: number;
}

/** Longest lineage walk; real chains are a handful of hops, corrupt ones must still terminate. */
const MAX_LINEAGE_HOPS = 1000;
const MAX_TITLE_LENGTH = 200;
const MAX_END_REASON_LENGTH = 64;
const INSERT_CHUNK = 500;

function assertText(argument: string, value: unknown, maxLength: number): asserts value is string {
  if (typeof value !== "string" || value.trim().length === 0 || value.length > maxLength) {
    throw new InvalidArgumentError(argument, `must be a non-empty string of at most ${maxLength} characters`);
  }
}

function assertMessageId(value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError("messageId", "must be a positive integer");
  }
}

function clampLimit(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError("limit", "must be a positive integer");
  return Math.min(value, max);
}

type SessionsAsS = { s: DB["sessions"] };

/** `column = value` (or `is null`) for each scope field that is set; true when none is. */
function inScope<T extends SessionsAsS>(eb: ExpressionBuilder<T, "s">, scope: TranscriptScope) {
  const own = eb as unknown as ExpressionBuilder<SessionsAsS, "s">;
  const fields = [
    ["s.source", scope.source],
    ["s.user_id", scope.userId],
    ["s.project_id", scope.projectId],
    ["s.session_key", scope.sessionKey],
  ] as const;
  const conditions = fields
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => (value === null ? own(column, "is", null) : own(column, "=", value as string)));
  if (scope.routed !== undefined) {
    conditions.push(scope.routed ? own("s.session_key", "is not", null) : own("s.session_key", "is", null));
  }
  return own.and(conditions);
}

/**
 * `TranscriptStore` on PostgreSQL or PGlite through Kysely. Every write that touches more than one row
 * runs in one short transaction that first locks the session row (`SELECT ... FOR UPDATE`), so writers
 * of one session queue up while other sessions proceed; validation and serialisation happen before
 * the transaction opens. Counters are maintained so that `messageCount`/`toolCallCount` always equal
 * the totals over active messages.
 */
export class PostgresTranscriptStore implements TranscriptStore {
  readonly #db: Kysely<DB>;
  readonly #clock: Clock;
  readonly #maxMessageBytes: number;

  constructor(db: Kysely<DB>, props: PostgresTranscriptStoreProps = {}) {
    this.#db = db;
    this.#clock = props.clock ?? systemClock;
    this.#maxMessageBytes = props.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  #now(): Date {
    return new Date(this.#clock.now());
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

  /** Locks the live session row for the rest of `trx`; throws `SESSION_NOT_FOUND` when there is none. */
  async #lockSession(trx: Transaction<DB>, sessionId: string) {
    const row = await trx
      .selectFrom("sessions")
      .selectAll()
      .where("id", "=", sessionId)
      .where("deleted_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new SessionNotFoundError(sessionId);
    return row;
  }

  async #requireSession(db: Kysely<DB>, sessionId: string) {
    const row = await db
      .selectFrom("sessions")
      .selectAll()
      .where("id", "=", sessionId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    if (!row) throw new SessionNotFoundError(sessionId);
    return row;
  }

  /** Re-derives the message and tool-call counters from the active messages (after bulk changes). */
  async #recount(trx: Transaction<DB>, sessionId: string, now: Date): Promise<void> {
    await trx
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
      .execute();
  }

  async createSession(input: NewTranscriptSession): Promise<TranscriptSession> {
    assertSafeId("session id", input.id);
    assertText("source", input.source, 64);
    if (input.parentSessionId != null) assertSafeId("parent session id", input.parentSessionId);
    if (input.title != null) assertText("title", input.title, MAX_TITLE_LENGTH);
    const startedAt = new Date(input.startedAt ?? this.#clock.now());
    return this.#guard(
      "createSession",
      async () => {
        const row = await this.#db
          .insertInto("sessions")
          .values({
            id: input.id,
            source: input.source,
            user_id: input.userId ?? null,
            session_key: input.sessionKey ?? null,
            chat_id: input.chatId ?? null,
            chat_type: input.chatType ?? null,
            thread_id: input.threadId ?? null,
            title: input.title ?? null,
            model: input.model ?? null,
            parent_session_id: input.parentSessionId ?? null,
            project_id: input.projectId ?? null,
            profile: input.profile ?? null,
            started_at: startedAt,
            updated_at: startedAt,
          })
          // An existing row wins: only its empty columns are filled from this call.
          .onConflict((oc) =>
            oc.column("id").doUpdateSet((eb) => ({
              user_id: eb.fn.coalesce("sessions.user_id", "excluded.user_id"),
              session_key: eb.fn.coalesce("sessions.session_key", "excluded.session_key"),
              chat_id: eb.fn.coalesce("sessions.chat_id", "excluded.chat_id"),
              chat_type: eb.fn.coalesce("sessions.chat_type", "excluded.chat_type"),
              thread_id: eb.fn.coalesce("sessions.thread_id", "excluded.thread_id"),
              title: eb.fn.coalesce("sessions.title", "excluded.title"),
              model: eb.fn.coalesce("sessions.model", "excluded.model"),
              parent_session_id: eb.fn.coalesce("sessions.parent_session_id", "excluded.parent_session_id"),
              project_id: eb.fn.coalesce("sessions.project_id", "excluded.project_id"),
              profile: eb.fn.coalesce("sessions.profile", "excluded.profile"),
            })),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return toTranscriptSession(row);
      },
      () => new ConflictError(`Title ${JSON.stringify(input.title)} is already used by another session`),
    );
  }

  async getSession(sessionId: string): Promise<TranscriptSession | undefined> {
    assertSafeId("session id", sessionId);
    return this.#guard("getSession", async () => {
      const row = await this.#db
        .selectFrom("sessions")
        .selectAll()
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      return row ? toTranscriptSession(row) : undefined;
    });
  }

  async updateSession(sessionId: string, patch: TranscriptSessionPatch): Promise<TranscriptSession> {
    assertSafeId("session id", sessionId);
    if (patch.title != null) assertText("title", patch.title, MAX_TITLE_LENGTH);
    const now = this.#now();
    return this.#guard(
      "updateSession",
      async () => {
        const row = await this.#db
          .updateTable("sessions")
          .set({
            ...(patch.title === undefined ? {} : { title: patch.title }),
            ...(patch.model === undefined ? {} : { model: patch.model }),
            ...(patch.pinned === undefined ? {} : { pinned: patch.pinned }),
            ...(patch.archived === undefined ? {} : { archived: patch.archived }),
            ...(patch.projectId === undefined ? {} : { project_id: patch.projectId }),
            ...(patch.profile === undefined ? {} : { profile: patch.profile }),
            updated_at: now,
          })
          .where("id", "=", sessionId)
          .where("deleted_at", "is", null)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new SessionNotFoundError(sessionId);
        return toTranscriptSession(row);
      },
      () => new ConflictError(`Title ${JSON.stringify(patch.title)} is already used by another session`),
    );
  }

  async deleteSession(sessionId: string): Promise<void> {
    assertSafeId("session id", sessionId);
    const now = this.#now();
    return this.#guard("deleteSession", async () => {
      const result = await this.#db
        .updateTable("sessions")
        .set({ deleted_at: now, updated_at: now })
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new SessionNotFoundError(sessionId);
    });
  }

  async endSession(sessionId: string, reason: string): Promise<EndTranscriptSessionResult> {
    assertSafeId("session id", sessionId);
    assertText("reason", reason, MAX_END_REASON_LENGTH);
    const now = this.#now();
    return this.#guard("endSession", async () => {
      // One conditional UPDATE: racing enders queue on the row lock and re-check the condition, so
      // exactly one of them writes its reason.
      const written = await this.#db
        .updateTable("sessions")
        .set({ ended_at: now, end_reason: reason, updated_at: now })
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .where("end_reason", "is", null)
        .where("ended_at", "is", null)
        .returning("id")
        .executeTakeFirst();
      if (written) return { ended: true, endReason: reason };
      const row = await this.#requireSession(this.#db, sessionId);
      return { ended: false, endReason: row.end_reason ?? reason };
    });
  }

  async reopenSession(sessionId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    const now = this.#now();
    return this.#guard("reopenSession", async () => {
      const reopened = await this.#db
        .updateTable("sessions")
        .set({ ended_at: null, end_reason: null, updated_at: now })
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .where((eb) => eb.or([eb("ended_at", "is not", null), eb("end_reason", "is not", null)]))
        .returning("id")
        .executeTakeFirst();
      if (reopened) return true;
      await this.#requireSession(this.#db, sessionId);
      return false;
    });
  }

  async appendMessage(
    sessionId: string,
    message: NewTranscriptMessage,
  ): Promise<AppendTranscriptMessageResult> {
    assertSafeId("session id", sessionId);
    const prepared = prepareTranscriptMessage(message, this.#maxMessageBytes, this.#clock.now());
    const now = this.#now();
    const platformId = prepared.platformMessageId;
    if (platformId === null) return this.#appendInOneStatement(sessionId, prepared, now);
    return this.#guard("appendMessage", () =>
      this.#db.transaction().execute(async (trx) => {
        // The row lock serialises appends to one session: message ids follow commit order and counter
        // updates never interleave.
        const session = await this.#lockSession(trx, sessionId);
        let messageId: number | undefined;
        if (session.session_key === null) {
          // No key: the id is unique per session, and the lock makes this check race-free.
          const existing = await trx
            .selectFrom("messages")
            .select("id")
            .where("session_id", "=", sessionId)
            .where("platform_message_id", "=", platformId)
            .executeTakeFirst();
          if (existing) return { messageId: existing.id, duplicate: true, existingSessionId: sessionId };
        } else {
          const claimed = await this.#claim(trx, session.session_key, platformId, sessionId, now);
          if (claimed.duplicate) return claimed;
          messageId = claimed.messageId;
        }
        const inserted = await trx
          .insertInto("messages")
          .values({
            ...toMessageInsertRow(sessionId, prepared),
            ...(messageId === undefined ? {} : { id: messageId }),
          })
          .onConflict((oc) =>
            oc
              .columns(["session_id", "platform_message_id"])
              .where("platform_message_id", "is not", null)
              .doNothing(),
          )
          .returning("id")
          .executeTakeFirst();
        if (!inserted) {
          // The session holds a copy of the message (a branch) the key never received: the receipt
          // just claimed now names that row, and the delivery is a duplicate of it.
          const copy = await trx
            .selectFrom("messages")
            .select("id")
            .where("session_id", "=", sessionId)
            .where("platform_message_id", "=", platformId)
            .executeTakeFirstOrThrow();
          if (session.session_key !== null) {
            await trx
              .updateTable("platform_message_receipts")
              .set({ message_id: copy.id })
              .where("session_key", "=", session.session_key)
              .where("platform_message_id", "=", platformId)
              .execute();
          }
          return { messageId: copy.id, duplicate: true, existingSessionId: sessionId };
        }
        const bumped = await trx
          .updateTable("sessions")
          .set((eb) => ({
            message_count: eb("message_count", "+", 1),
            tool_call_count: eb("tool_call_count", "+", prepared.toolCallCount),
            input_tokens: eb("input_tokens", "+", prepared.inputTokens),
            output_tokens: eb("output_tokens", "+", prepared.outputTokens),
            cost_usd: eb("cost_usd", "+", prepared.costUsd),
            updated_at: now,
          }))
          .where("id", "=", sessionId)
          .returning(["message_count", "updated_at"])
          .executeTakeFirstOrThrow();
        return {
          messageId: Number(inserted.id),
          duplicate: false,
          session: { messageCount: Number(bumped.message_count), updatedAt: toEpochMs(bumped.updated_at) },
        };
      }),
    );
  }

  /**
   * Claims `(sessionKey, platformId)` for a message of `sessionId` about to be inserted, drawing its
   * message id now. The receipt's primary key is the arbiter: of racing claims (in any process, into
   * any of the key's sessions) one inserts and the others wait for its transaction, then see its row.
   */
  async #claim(
    trx: Transaction<DB>,
    sessionKey: string,
    platformId: string,
    sessionId: string,
    now: Date,
  ): Promise<AppendTranscriptMessageResult> {
    // A receipt that vanishes between the two statements (its session pruned) frees the id: try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimed = await trx
        .insertInto("platform_message_receipts")
        .values({
          session_key: sessionKey,
          platform_message_id: platformId,
          session_id: sessionId,
          message_id: sql<number>`nextval(pg_get_serial_sequence('messages', 'id'))`,
          received_at: now,
        })
        .onConflict((oc) => oc.columns(["session_key", "platform_message_id"]).doNothing())
        .returning("message_id")
        .executeTakeFirst();
      if (claimed) return { messageId: Number(claimed.message_id), duplicate: false };
      // READ COMMITTED: this statement sees the receipt the conflicting transaction committed.
      const earlier = await trx
        .selectFrom("platform_message_receipts")
        .select(["session_id", "message_id"])
        .where("session_key", "=", sessionKey)
        .where("platform_message_id", "=", platformId)
        .executeTakeFirst();
      if (earlier) {
        return {
          messageId: Number(earlier.message_id),
          duplicate: true,
          existingSessionId: earlier.session_id,
        };
      }
    }
    throw new ConflictError(`appendMessage: platform message ${JSON.stringify(platformId)} kept changing`, {
      sessionKey,
    });
  }

  /**
   * The common append (no platform id, so nothing to dedupe) in one round trip: the counter UPDATE
   * locks the session row first and the INSERT reads from it, so the message id is drawn under the
   * lock (ids follow commit order within a session) and a missing session inserts nothing.
   */
  #appendInOneStatement(
    sessionId: string,
    message: PreparedTranscriptMessage,
    now: Date,
  ): Promise<AppendTranscriptMessageResult> {
    return this.#guard("appendMessage", async () => {
      const { rows } = await sql<{ id: number; message_count: number; updated_at: Date | string }>`
        with bumped as (
          update sessions
          set message_count = message_count + 1,
              tool_call_count = tool_call_count + ${message.toolCallCount},
              input_tokens = input_tokens + ${message.inputTokens},
              output_tokens = output_tokens + ${message.outputTokens},
              cost_usd = cost_usd + ${message.costUsd},
              updated_at = ${now}
          where id = ${sessionId} and deleted_at is null
          returning id, message_count, updated_at
        ), inserted as (
        insert into messages (session_id, role, content, parts, tool_name, tool_calls, tool_results,
                              tool_call_id, reasoning, reasoning_details, observed, created_at)
        select id, ${message.role}::text, ${message.content}::text, ${message.parts}::jsonb,
               ${message.toolName}::text, ${message.toolCalls}::jsonb, ${message.toolResults}::jsonb,
               ${message.toolCallId}::text, ${message.reasoning}::text, ${message.reasoningDetails}::jsonb,
               ${message.observed}::boolean, ${message.createdAt}::timestamptz
        from bumped
        returning id
        )
        select inserted.id, bumped.message_count, bumped.updated_at from inserted, bumped
      `.execute(this.#db);
      const inserted = rows[0];
      if (!inserted) throw new SessionNotFoundError(sessionId);
      return {
        messageId: Number(inserted.id),
        duplicate: false,
        session: { messageCount: Number(inserted.message_count), updatedAt: toEpochMs(inserted.updated_at) },
      };
    });
  }

  async getMessages(
    sessionId: string,
    options: { includeInactive?: boolean } = {},
  ): Promise<TranscriptMessage[]> {
    assertSafeId("session id", sessionId);
    return this.#guard("getMessages", async () => {
      let query = this.#db
        .selectFrom("messages")
        .select(MESSAGE_COLUMNS)
        .where("session_id", "=", sessionId)
        .orderBy("id");
      if (!options.includeInactive) query = query.where("active", "=", true);
      const rows = await query.execute();
      return rows.map(toTranscriptMessage);
    });
  }

  async replaceMessages(sessionId: string, messages: readonly NewTranscriptMessage[]): Promise<number> {
    assertSafeId("session id", sessionId);
    if (!Array.isArray(messages)) throw new InvalidArgumentError("messages", "must be an array");
    const nowMs = this.#clock.now();
    // Validate everything first: a bad message anywhere means nothing is touched.
    const prepared = messages.map((message) =>
      prepareTranscriptMessage(message, this.#maxMessageBytes, nowMs),
    );
    const now = new Date(nowMs);
    return this.#guard(
      "replaceMessages",
      () =>
        this.#db.transaction().execute(async (trx) => {
          await this.#lockSession(trx, sessionId);
          await trx.deleteFrom("messages").where("session_id", "=", sessionId).execute();
          for (let start = 0; start < prepared.length; start += INSERT_CHUNK) {
            const chunk = prepared.slice(start, start + INSERT_CHUNK);
            await trx
              .insertInto("messages")
              .values(chunk.map((message) => toMessageInsertRow(sessionId, message)))
              .execute();
          }
          await this.#recount(trx, sessionId, now);
          return prepared.length;
        }),
      () => new ConflictError("replaceMessages: two messages share a platformMessageId", { sessionId }),
    );
  }

  async rewindToUserMessage(sessionId: string, messageId: number): Promise<TranscriptRewindResult> {
    assertSafeId("session id", sessionId);
    assertMessageId(messageId);
    const now = this.#now();
    return this.#guard("rewindToUserMessage", () =>
      this.#db.transaction().execute(async (trx) => {
        await this.#lockSession(trx, sessionId);
        const target = await trx
          .selectFrom("messages")
          .select(["id", "role", "content", "parts", "active"])
          .where("id", "=", messageId)
          .where("session_id", "=", sessionId)
          .executeTakeFirst();
        if (target?.role !== "user" || !target.active) {
          throw new NotFoundError("active user message", `${sessionId}#${messageId}`);
        }
        const result = await trx
          .updateTable("messages")
          .set({ active: false })
          .where("session_id", "=", sessionId)
          .where("id", ">=", messageId)
          .where("active", "=", true)
          .executeTakeFirst();
        await this.#recount(trx, sessionId, now);
        return {
          rewoundCount: Number(result.numUpdatedRows),
          targetMessageId: messageId,
          targetText: transcriptMessageText(target.content, target.parts),
        };
      }),
    );
  }

  async restoreRewound(sessionId: string): Promise<number> {
    assertSafeId("session id", sessionId);
    const now = this.#now();
    return this.#guard("restoreRewound", () =>
      this.#db.transaction().execute(async (trx) => {
        await this.#lockSession(trx, sessionId);
        // Only the tail after the newest active message: restoring rows from before a later append
        // would splice an old branch into the middle of the conversation.
        const result = await trx
          .updateTable("messages")
          .set({ active: true })
          .where("session_id", "=", sessionId)
          .where("active", "=", false)
          .where("compacted", "=", false)
          .where(
            "id",
            ">",
            sql<number>`(select coalesce(max(id), 0) from messages where session_id = ${sessionId} and active)`,
          )
          .executeTakeFirst();
        const restored = Number(result.numUpdatedRows);
        if (restored > 0) await this.#recount(trx, sessionId, now);
        return restored;
      }),
    );
  }

  async listRecentUserMessages(sessionId: string, limit: number): Promise<TranscriptUserMessage[]> {
    assertSafeId("session id", sessionId);
    const max = clampLimit(limit, 10, 1000);
    return this.#guard("listRecentUserMessages", async () => {
      const rows = await this.#db
        .selectFrom("messages")
        .select(["id", "content", "parts", "created_at"])
        .where("session_id", "=", sessionId)
        .where("role", "=", "user")
        .where("active", "=", true)
        .orderBy("id", "desc")
        .limit(max)
        .execute();
      return rows.map((row) => ({
        id: Number(row.id),
        content: transcriptMessageText(row.content, row.parts),
        createdAt: toEpochMs(row.created_at),
      }));
    });
  }

  async hasPlatformMessageId(sessionId: string, platformMessageId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    assertText("platformMessageId", platformMessageId, 256);
    return this.#guard("hasPlatformMessageId", async () => {
      const row = await this.#db
        .selectFrom("messages")
        .select("id")
        .where("session_id", "=", sessionId)
        .where("platform_message_id", "=", platformMessageId)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async findPlatformMessage(
    sessionKey: string,
    platformMessageId: string,
  ): Promise<PlatformMessageRecord | undefined> {
    assertSafeId("session key", sessionKey, { maxLength: MAX_SESSION_KEY_LENGTH });
    assertText("platformMessageId", platformMessageId, 256);
    return this.#guard("findPlatformMessage", async () => {
      // The reply is the first assistant message after the user message and before the session's
      // next user message; both walks are short range scans of (session_id, id). A user message gone
      // from its session (the transcript was replaced since) has no known reply.
      const { rows } = await sql<{
        session_id: string;
        message_id: number;
        received_at: Date | string;
        reply_id: number | null;
        reply_content: string | null;
        reply_parts: unknown;
        reply_created_at: Date | string | null;
      }>`
        select r.session_id, r.message_id, r.received_at,
               a.id as reply_id, a.content as reply_content, a.parts as reply_parts,
               a.created_at as reply_created_at
          from platform_message_receipts r
          left join lateral (
            select a.id, a.content, a.parts, a.created_at
              from messages a
             where a.session_id = r.session_id and a.id > r.message_id and a.role = 'assistant'
               and exists (select 1 from messages q where q.id = r.message_id and q.session_id = r.session_id)
               and a.id < coalesce(
                 (select u.id from messages u
                   where u.session_id = r.session_id and u.id > r.message_id and u.role = 'user'
                   order by u.id limit 1),
                 9223372036854775807)
             order by a.id
             limit 1
          ) a on true
         where r.session_key = ${sessionKey} and r.platform_message_id = ${platformMessageId}
      `.execute(this.#db);
      const row = rows[0];
      if (!row) return undefined;
      return {
        sessionKey,
        platformMessageId,
        sessionId: row.session_id,
        messageId: Number(row.message_id),
        receivedAt: toEpochMs(row.received_at),
        reply:
          row.reply_id === null || row.reply_created_at === null
            ? null
            : {
                messageId: Number(row.reply_id),
                text: transcriptMessageText(row.reply_content, row.reply_parts),
                createdAt: toEpochMs(row.reply_created_at),
              },
      };
    });
  }

  async markCompacted(sessionId: string, throughMessageId: number): Promise<number> {
    assertSafeId("session id", sessionId);
    assertMessageId(throughMessageId);
    return this.#guard("markCompacted", async () => {
      await this.#requireSession(this.#db, sessionId);
      const result = await this.#db
        .updateTable("messages")
        .set({ compacted: true })
        .where("session_id", "=", sessionId)
        .where("id", "<=", throughMessageId)
        .where("active", "=", true)
        .where("compacted", "=", false)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  async countMessages(sessionId: string, options: { includeInactive?: boolean } = {}): Promise<number> {
    assertSafeId("session id", sessionId);
    return this.#guard("countMessages", async () => {
      let query = this.#db
        .selectFrom("messages")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("session_id", "=", sessionId);
      if (!options.includeInactive) query = query.where("active", "=", true);
      const row = await query.executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  async startCompressionContinuation(
    parentId: string,
    child: Omit<NewTranscriptSession, "source" | "parentSessionId"> & Partial<TranscriptPeer>,
  ): Promise<TranscriptSession> {
    assertSafeId("parent session id", parentId);
    assertSafeId("session id", child.id);
    if (child.id === parentId) throw new InvalidArgumentError("child.id", "must differ from the parent id");
    if (child.title != null) assertText("title", child.title, MAX_TITLE_LENGTH);
    const now = this.#now();
    return this.#guard(
      "startCompressionContinuation",
      () =>
        this.#db.transaction().execute(async (trx) => {
          const parent = await this.#lockSession(trx, parentId);
          if (parent.end_reason !== null && parent.end_reason !== COMPRESSION_END_REASON) {
            throw new ConflictError(
              `Session ${JSON.stringify(parentId)} already ended (${parent.end_reason}); it cannot be compressed`,
              { sessionId: parentId, endReason: parent.end_reason },
            );
          }
          await trx
            .updateTable("sessions")
            .set({ ended_at: parent.ended_at ?? now, end_reason: COMPRESSION_END_REASON, updated_at: now })
            .where("id", "=", parentId)
            .execute();
          const pick = <K extends keyof TranscriptPeer>(key: K, fallback: string | null) =>
            child[key] === undefined ? fallback : (child[key] as string | null);
          const row = await trx
            .insertInto("sessions")
            .values({
              id: child.id,
              source: child.source ?? parent.source,
              user_id: pick("userId", parent.user_id),
              session_key: pick("sessionKey", parent.session_key),
              chat_id: pick("chatId", parent.chat_id),
              chat_type: pick("chatType", parent.chat_type),
              thread_id: pick("threadId", parent.thread_id),
              title: child.title ?? null,
              model: child.model === undefined ? parent.model : child.model,
              parent_session_id: parentId,
              project_id: child.projectId === undefined ? parent.project_id : child.projectId,
              profile: child.profile === undefined ? parent.profile : child.profile,
              started_at: child.startedAt === undefined ? now : new Date(child.startedAt),
              updated_at: now,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          return toTranscriptSession(row);
        }),
      () => new ConflictError(`Session ${JSON.stringify(child.id)} (or its title) already exists`),
    );
  }

  async getCompressionTip(sessionId: string): Promise<string | undefined> {
    assertSafeId("session id", sessionId);
    return this.#guard("getCompressionTip", async () => {
      // Walk parent -> newest child while the parent ended by compression. The path array stops the
      // walk before an id repeats (corrupt lineage), the depth bound stops it regardless.
      const { rows } = await sql<{ id: string }>`
        with recursive chain (id, depth, path) as (
          select s.id, 0, array[s.id]
          from sessions s
          where s.id = ${sessionId} and s.deleted_at is null
          union all
          select next.id, chain.depth + 1, chain.path || next.id
          from chain
          cross join lateral (
            select c.id
            from sessions p
            join sessions c on c.parent_session_id = p.id and c.deleted_at is null
            where p.id = chain.id and p.end_reason = ${COMPRESSION_END_REASON}
            order by c.started_at desc, c.id desc
            limit 1
          ) next
          where chain.depth < ${MAX_LINEAGE_HOPS} and not (next.id = any (chain.path))
        )
        select id from chain order by depth desc limit 1
      `.execute(this.#db);
      return rows[0]?.id;
    });
  }

  async findLatestSessionForPeer(peer: TranscriptPeer): Promise<TranscriptSession | undefined> {
    assertText("peer.source", peer.source, 64);
    if (peer.sessionKey == null && peer.userId == null) {
      // Without a key or a user the lookup would pick any conversation of the whole platform.
      throw new InvalidArgumentError("peer", "needs a sessionKey or a userId");
    }
    return this.#guard("findLatestSessionForPeer", async () => {
      let query = this.#db
        .selectFrom("sessions")
        .selectAll()
        .where("source", "=", peer.source)
        .where("deleted_at", "is", null);
      const fields = [
        ["session_key", peer.sessionKey],
        ["user_id", peer.userId],
        ["chat_id", peer.chatId],
        ["chat_type", peer.chatType],
        ["thread_id", peer.threadId],
      ] as const;
      for (const [column, value] of fields) {
        if (value === undefined) continue;
        query = value === null ? query.where(column, "is", null) : query.where(column, "=", value);
      }
      const row = await query.orderBy("started_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
      if (!row) return undefined;
      const session = toTranscriptSession(row);
      // Only the newest session counts: after a /new (or a switch) an older agent_close row must not
      // be resurrected.
      return isRecoverableSession(session) ? session : undefined;
    });
  }

  async recordPeer(sessionId: string, peer: TranscriptPeer): Promise<void> {
    assertSafeId("session id", sessionId);
    assertText("peer.source", peer.source, 64);
    const now = this.#now();
    return this.#guard("recordPeer", async () => {
      const result = await this.#db
        .updateTable("sessions")
        .set({
          source: peer.source,
          ...(peer.userId === undefined ? {} : { user_id: peer.userId }),
          ...(peer.sessionKey === undefined ? {} : { session_key: peer.sessionKey }),
          ...(peer.chatId === undefined ? {} : { chat_id: peer.chatId }),
          ...(peer.chatType === undefined ? {} : { chat_type: peer.chatType }),
          ...(peer.threadId === undefined ? {} : { thread_id: peer.threadId }),
          updated_at: now,
        })
        .where("id", "=", sessionId)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new SessionNotFoundError(sessionId);
    });
  }

  async searchMessages(options: SearchTranscriptOptions): Promise<TranscriptSearchHit[]> {
    assertText("query", options.query, 1000);
    if (options.scope === null || typeof options.scope !== "object") {
      throw new InvalidArgumentError("scope", "is required (pass {} to search everything)");
    }
    if (options.sessionId !== undefined) assertSafeId("session id", options.sessionId);
    const limit = clampLimit(options.limit, 20, 200);
    return this.#guard("searchMessages", async () => {
      const tsquery = sql`websearch_to_tsquery('simple', ${options.query})`;
      let query = this.#db
        .selectFrom("messages as m")
        .innerJoin("sessions as s", "s.id", "m.session_id")
        .select([
          "m.id",
          "m.session_id",
          "m.role",
          "m.created_at",
          sql<string>`ts_headline('simple', coalesce(m.content, ''), ${tsquery}, 'StartSel="", StopSel="", MaxWords=24, MinWords=8, MaxFragments=1')`.as(
            "snippet",
          ),
        ])
        .where(sql<boolean>`m.search @@ ${tsquery}`)
        .where("m.active", "=", true)
        .where("s.deleted_at", "is", null);
      query = query.where((eb) => inScope(eb, options.scope));
      if (options.sessionId !== undefined) query = query.where("m.session_id", "=", options.sessionId);
      const rows = await query
        .orderBy(sql`ts_rank(m.search, ${tsquery})`, "desc")
        .orderBy("m.id", "desc")
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        messageId: Number(row.id),
        sessionId: row.session_id,
        role: row.role as TranscriptRole,
        snippet: row.snippet,
        createdAt: toEpochMs(row.created_at),
      }));
    });
  }

  async listSessions(options: ListTranscriptSessionsOptions): Promise<TranscriptSessionListItem[]> {
    if (options.scope === null || typeof options.scope !== "object") {
      throw new InvalidArgumentError("scope", "is required (pass {} to list everything)");
    }
    const limit = clampLimit(options.limit, 50, 500);
    const offset = options.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new InvalidArgumentError("offset", "must be a non-negative integer");
    }
    const chars = clampLimit(options.previewChars, 120, 2000);
    return this.#guard("listSessions", async () => {
      // Pick the page first (an index scan in listing order), then fetch previews for that page only:
      // a lateral join over the whole table would run once per session before the LIMIT.
      let page = this.#db.selectFrom("sessions as s").selectAll("s").where("s.deleted_at", "is", null);
      page = page.where((eb) => inScope(eb, options.scope));
      if (!options.includeArchived) page = page.where("s.archived", "=", false);
      if (options.includeEnded === false) page = page.where("s.ended_at", "is", null);
      page = page
        .orderBy("s.pinned", "desc")
        .orderBy("s.updated_at", "desc")
        .orderBy("s.id", "desc")
        .limit(limit)
        .offset(offset);
      const rows = await this.#db
        .selectFrom(page.as("s"))
        // Previews come from one indexed row each and are cut in SQL: bodies never leave the database.
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom("messages as fm")
              .select(sql<string>`left(fm.content, ${chars})`.as("text"))
              .whereRef("fm.session_id", "=", "s.id")
              .where("fm.role", "=", "user")
              .where("fm.active", "=", true)
              .orderBy("fm.id", "asc")
              .limit(1)
              .as("first_user"),
          (join) => join.onTrue(),
        )
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom("messages as lm")
              .select([
                "lm.role",
                "lm.created_at",
                sql<string>`left(coalesce(lm.content, ''), ${chars})`.as("text"),
              ])
              .whereRef("lm.session_id", "=", "s.id")
              .where("lm.active", "=", true)
              .orderBy("lm.id", "desc")
              .limit(1)
              .as("last_message"),
          (join) => join.onTrue(),
        )
        .selectAll("s")
        .select([
          "first_user.text as first_user_text",
          "last_message.role as last_role",
          "last_message.created_at as last_created_at",
          "last_message.text as last_text",
        ])
        .orderBy("s.pinned", "desc")
        .orderBy("s.updated_at", "desc")
        .orderBy("s.id", "desc")
        .execute();
      return rows.map((row) => {
        const { first_user_text, last_role, last_created_at, last_text, ...session } = row;
        return {
          session: toTranscriptSession(session),
          firstUserMessage: first_user_text ?? null,
          lastMessage:
            last_role == null || last_created_at == null
              ? null
              : {
                  role: last_role as TranscriptRole,
                  snippet: last_text ?? "",
                  createdAt: toEpochMs(last_created_at),
                },
        };
      });
    });
  }

  async countSessions(scope: TranscriptScope, options: { includeArchived?: boolean } = {}): Promise<number> {
    if (scope === null || typeof scope !== "object") {
      throw new InvalidArgumentError("scope", "is required (pass {} to count everything)");
    }
    return this.#guard("countSessions", async () => {
      let query = this.#db
        .selectFrom("sessions as s")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("s.deleted_at", "is", null);
      query = query.where((eb) => inScope(eb, scope));
      if (!options.includeArchived) query = query.where("s.archived", "=", false);
      const row = await query.executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  async nextAvailableTitle(base: string): Promise<string> {
    assertText("base", base, MAX_TITLE_LENGTH - 8);
    const title = base.trim();
    return this.#guard("nextAvailableTitle", async () => {
      const pattern = `${title.replace(/[\\%_]/g, "\\$&")} #%`;
      const rows = await this.#db
        .selectFrom("sessions")
        .select("title")
        .where("deleted_at", "is", null)
        .where((eb) => eb.or([eb("title", "=", title), eb("title", "like", pattern)]))
        .execute();
      const taken = new Set(rows.map((row) => row.title));
      if (!taken.has(title)) return title;
      for (let n = 2; ; n++) {
        const candidate = `${title} #${n}`;
        if (!taken.has(candidate)) return candidate;
      }
    });
  }

  async pruneEndedSessions(olderThan: number): Promise<number> {
    if (!Number.isFinite(olderThan)) throw new InvalidArgumentError("olderThan", "must be epoch ms");
    const cutoff = new Date(olderThan);
    return this.#guard("pruneEndedSessions", async () => {
      const result = await this.#db
        .deleteFrom("sessions")
        .where("pinned", "=", false)
        .where((eb) => eb.or([eb("ended_at", "<", cutoff), eb("deleted_at", "<", cutoff)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
