import {
  assertRoutingKey,
  assertSafeId,
  buildRoutingEntry,
  type Clock,
  ConflictError,
  InvalidArgumentError,
  isEngramError,
  type ListRoutingEntriesOptions,
  type NewRoutingEntry,
  type NormalizedRoutingFields,
  normalizeRoutingFields,
  type PatchRoutingEntryOptions,
  type PruneRoutingEntriesOptions,
  type PutIfAbsentResult,
  pickSwitchFlags,
  RESTART_INTERRUPTED_REASON,
  type RoutingEntry,
  type RoutingEntryFilter,
  type RoutingEntryPatch,
  type RoutingIndex,
  routingListLimit,
  routingListOffset,
  StoreError,
  type SwitchSessionOptions,
  type SwitchSessionResult,
  systemClock,
} from "@engram/core";
import type { Kysely, SelectQueryBuilder } from "kysely";
import type { DB, RoutingEntryRow, RoutingEntryUpdate } from "../db/schema/index.js";
import { fromRoutingRow, originToJson, routingEntryToRow } from "./routing-entry-rows.js";

export interface PostgresRoutingIndexProps {
  /** Source of "now" for `createdAt`/`updatedAt` and resume marks (default: the system clock). */
  readonly clock?: Clock;
}

/** Column writes for the fields present in a normalised patch; absent fields produce no SET. */
function fieldsToColumns(fields: NormalizedRoutingFields): RoutingEntryUpdate {
  const set: RoutingEntryUpdate = {};
  if (fields.displayName !== undefined) set.display_name = fields.displayName;
  if (fields.origin !== undefined) set.origin = originToJson(fields.origin);
  if (fields.platform !== undefined) set.platform = fields.platform;
  if (fields.chatType !== undefined) set.chat_type = fields.chatType;
  if (fields.lastPromptTokens !== undefined) set.last_prompt_tokens = fields.lastPromptTokens;
  if (fields.wasAutoReset !== undefined) set.was_auto_reset = fields.wasAutoReset;
  if (fields.autoResetReason !== undefined) set.auto_reset_reason = fields.autoResetReason;
  if (fields.resetHadActivity !== undefined) set.reset_had_activity = fields.resetHadActivity;
  if (fields.isFreshReset !== undefined) set.is_fresh_reset = fields.isFreshReset;
  if (fields.expiryFinalized !== undefined) set.expiry_finalized = fields.expiryFinalized;
  if (fields.suspended !== undefined) set.suspended = fields.suspended;
  if (fields.resumePending !== undefined) set.resume_pending = fields.resumePending;
  if (fields.resumeReason !== undefined) set.resume_reason = fields.resumeReason;
  if (fields.resumeMarkedAt !== undefined) {
    set.resume_marked_at = fields.resumeMarkedAt === null ? null : new Date(fields.resumeMarkedAt);
  }
  if (fields.modelOverride !== undefined) {
    set.model_override = fields.modelOverride === null ? null : JSON.stringify(fields.modelOverride);
  }
  return set;
}

/**
 * {@link RoutingIndex} on PostgreSQL or PGlite: one row per session key in `routing_entries`. Every
 * mutation is a single statement — patches are column-level UPDATEs, the session switch is
 * `UPDATE ... WHERE session_id = expected` — so racing routers (threads or processes) serialise on the
 * row lock and each re-evaluates its condition against the committed row: no lost updates, exactly
 * one winner per switch. Input is validated and sanitised by core's shared helpers before any SQL.
 */
export class PostgresRoutingIndex implements RoutingIndex {
  readonly #db: Kysely<DB>;
  readonly #clock: Clock;

  constructor(db: Kysely<DB>, props: PostgresRoutingIndexProps = {}) {
    this.#db = db;
    this.#clock = props.clock ?? systemClock;
  }

  async #guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isEngramError(error)) throw error;
      throw new StoreError(operation, error);
    }
  }

  #filtered<O>(query: SelectQueryBuilder<DB, "routing_entries", O>, filter: RoutingEntryFilter) {
    let next = query;
    if (filter.platform !== undefined) next = next.where("platform", "=", filter.platform);
    if (filter.updatedBefore !== undefined)
      next = next.where("updated_at", "<", new Date(filter.updatedBefore));
    if (filter.updatedSince !== undefined)
      next = next.where("updated_at", ">=", new Date(filter.updatedSince));
    if (filter.sessionId !== undefined) next = next.where("session_id", "=", filter.sessionId);
    if (filter.suspended !== undefined) next = next.where("suspended", "=", filter.suspended);
    if (filter.resumePending !== undefined) next = next.where("resume_pending", "=", filter.resumePending);
    return next;
  }

  async #select(sessionKey: string): Promise<RoutingEntryRow | undefined> {
    return this.#db
      .selectFrom("routing_entries")
      .selectAll()
      .where("session_key", "=", sessionKey)
      .executeTakeFirst();
  }

  async get(sessionKey: string): Promise<RoutingEntry | undefined> {
    assertRoutingKey(sessionKey);
    return this.#guard("routing.get", async () => {
      const row = await this.#select(sessionKey);
      return row ? fromRoutingRow(row) : undefined;
    });
  }

  async findBySessionId(sessionId: string): Promise<RoutingEntry | undefined> {
    assertSafeId("session id", sessionId);
    return this.#guard("routing.findBySessionId", async () => {
      const row = await this.#db
        .selectFrom("routing_entries")
        .selectAll()
        .where("session_id", "=", sessionId)
        .orderBy("updated_at", "desc")
        .orderBy("session_key")
        .limit(1)
        .executeTakeFirst();
      return row ? fromRoutingRow(row) : undefined;
    });
  }

  async list(options: ListRoutingEntriesOptions = {}): Promise<RoutingEntry[]> {
    const limit = routingListLimit(options.limit);
    const offset = routingListOffset(options.offset);
    return this.#guard("routing.list", async () => {
      const rows = await this.#filtered(this.#db.selectFrom("routing_entries").selectAll(), options)
        .orderBy("updated_at", "desc")
        .orderBy("session_key")
        .limit(limit)
        .offset(offset)
        .execute();
      return rows.map(fromRoutingRow);
    });
  }

  async count(filter: RoutingEntryFilter = {}): Promise<number> {
    return this.#guard("routing.count", async () => {
      const row = await this.#filtered(
        this.#db.selectFrom("routing_entries").select((eb) => eb.fn.countAll<number>().as("n")),
        filter,
      ).executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  async put(input: NewRoutingEntry): Promise<RoutingEntry> {
    const values = routingEntryToRow(buildRoutingEntry(input, this.#clock.now()));
    return this.#guard("routing.put", async () => {
      const { session_key: _key, ...replacement } = values;
      const row = await this.#db
        .insertInto("routing_entries")
        .values(values)
        .onConflict((oc) => oc.column("session_key").doUpdateSet(replacement))
        .returningAll()
        .executeTakeFirstOrThrow();
      return fromRoutingRow(row);
    });
  }

  async putIfAbsent(input: NewRoutingEntry): Promise<PutIfAbsentResult> {
    const values = routingEntryToRow(buildRoutingEntry(input, this.#clock.now()));
    return this.#guard("routing.putIfAbsent", async () => {
      // A concurrent delete can remove the winner between our failed insert and the read; try again.
      for (let attempt = 0; attempt < 5; attempt++) {
        const inserted = await this.#db
          .insertInto("routing_entries")
          .values(values)
          .onConflict((oc) => oc.column("session_key").doNothing())
          .returningAll()
          .executeTakeFirst();
        if (inserted) return { created: true, entry: fromRoutingRow(inserted) };
        const existing = await this.#select(values.session_key);
        if (existing) return { created: false, entry: fromRoutingRow(existing) };
      }
      throw new ConflictError(
        `Routing key ${JSON.stringify(values.session_key)} kept being created and deleted concurrently; retry`,
        { sessionKey: values.session_key },
      );
    });
  }

  async patch(
    sessionKey: string,
    patch: RoutingEntryPatch,
    options: PatchRoutingEntryOptions = {},
  ): Promise<RoutingEntry | undefined> {
    assertRoutingKey(sessionKey);
    if (options.expectedSessionId !== undefined)
      assertSafeId("expected session id", options.expectedSessionId);
    const set = fieldsToColumns(normalizeRoutingFields(patch));
    if (patch.touch !== false) set.updated_at = new Date(this.#clock.now());
    return this.#guard("routing.patch", async () => {
      if (Object.keys(set).length === 0) {
        const row = await this.#select(sessionKey);
        if (
          !row ||
          (options.expectedSessionId !== undefined && row.session_id !== options.expectedSessionId)
        ) {
          return undefined;
        }
        return fromRoutingRow(row);
      }
      let query = this.#db.updateTable("routing_entries").set(set).where("session_key", "=", sessionKey);
      if (options.expectedSessionId !== undefined)
        query = query.where("session_id", "=", options.expectedSessionId);
      const row = await query.returningAll().executeTakeFirst();
      return row ? fromRoutingRow(row) : undefined;
    });
  }

  async switchSession(
    sessionKey: string,
    expectedSessionId: string,
    newSessionId: string,
    options: SwitchSessionOptions = {},
  ): Promise<SwitchSessionResult> {
    assertRoutingKey(sessionKey);
    assertSafeId("expected session id", expectedSessionId);
    assertSafeId("session id", newSessionId);
    const flags = normalizeRoutingFields(pickSwitchFlags(options));
    const displayName = normalizeRoutingFields({ displayName: options.displayName }).displayName;
    const now = new Date(this.#clock.now());
    return this.#guard("routing.switchSession", async () => {
      if (expectedSessionId === newSessionId) {
        const row = await this.#select(sessionKey);
        const current = row ? fromRoutingRow(row) : undefined;
        return current?.sessionId === expectedSessionId
          ? { switched: true, entry: current }
          : { switched: false, current };
      }
      // Compare-and-set: the WHERE on the expected id is re-checked after any racing writer commits,
      // so of N routers leaving the same session exactly one sees it and writes.
      const row = await this.#db
        .updateTable("routing_entries")
        .set({
          session_id: newSessionId,
          created_at: now,
          updated_at: now,
          ...(displayName === undefined ? {} : { display_name: displayName }),
          last_prompt_tokens: 0,
          was_auto_reset: flags.wasAutoReset ?? false,
          auto_reset_reason: flags.autoResetReason ?? null,
          reset_had_activity: flags.resetHadActivity ?? false,
          is_fresh_reset: flags.isFreshReset ?? false,
          expiry_finalized: false,
          suspended: false,
          resume_pending: false,
          resume_reason: null,
          resume_marked_at: null,
          model_override: null,
        })
        .where("session_key", "=", sessionKey)
        .where("session_id", "=", expectedSessionId)
        .returningAll()
        .executeTakeFirst();
      if (row) return { switched: true, entry: fromRoutingRow(row) };
      const current = await this.#select(sessionKey);
      return { switched: false, current: current ? fromRoutingRow(current) : undefined };
    });
  }

  async delete(sessionKey: string, options: { readonly expectedSessionId?: string } = {}): Promise<boolean> {
    assertRoutingKey(sessionKey);
    if (options.expectedSessionId !== undefined)
      assertSafeId("expected session id", options.expectedSessionId);
    return this.#guard("routing.delete", async () => {
      let query = this.#db.deleteFrom("routing_entries").where("session_key", "=", sessionKey);
      if (options.expectedSessionId !== undefined)
        query = query.where("session_id", "=", options.expectedSessionId);
      const result = await query.executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async markResumePending(sessionKey: string, reason: string): Promise<boolean> {
    assertRoutingKey(sessionKey);
    const { resumeReason } = normalizeRoutingFields({ resumeReason: reason });
    const now = new Date(this.#clock.now());
    return this.#guard("routing.markResumePending", async () => {
      // `suspended` is the hard reset signal; the condition keeps a restart from softening it.
      const row = await this.#db
        .updateTable("routing_entries")
        .set({ resume_pending: true, resume_reason: resumeReason ?? null, resume_marked_at: now })
        .where("session_key", "=", sessionKey)
        .where("suspended", "=", false)
        .returning("session_key")
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async clearResumePending(sessionKey: string): Promise<boolean> {
    assertRoutingKey(sessionKey);
    return this.#guard("routing.clearResumePending", async () => {
      const row = await this.#db
        .updateTable("routing_entries")
        .set({ resume_pending: false, resume_reason: null, resume_marked_at: null })
        .where("session_key", "=", sessionKey)
        .where("resume_pending", "=", true)
        .returning("session_key")
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async suspend(sessionKey: string): Promise<boolean> {
    assertRoutingKey(sessionKey);
    return this.#guard("routing.suspend", async () => {
      const row = await this.#db
        .updateTable("routing_entries")
        .set({ suspended: true })
        .where("session_key", "=", sessionKey)
        .returning("session_key")
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async markRecentlyActiveResumable(maxAgeMs: number): Promise<number> {
    if (!Number.isFinite(maxAgeMs) || maxAgeMs < 0) {
      throw new InvalidArgumentError("maxAgeMs", "must be a non-negative number of milliseconds");
    }
    const now = this.#clock.now();
    return this.#guard("routing.markRecentlyActiveResumable", async () => {
      const result = await this.#db
        .updateTable("routing_entries")
        .set({
          resume_pending: true,
          resume_reason: RESTART_INTERRUPTED_REASON,
          resume_marked_at: new Date(now),
        })
        .where("resume_pending", "=", false)
        .where("suspended", "=", false)
        .where("updated_at", ">=", new Date(now - maxAgeMs))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  async pruneOlderThan(cutoff: number, options: PruneRoutingEntriesOptions = {}): Promise<number> {
    if (!Number.isFinite(cutoff)) throw new InvalidArgumentError("cutoff", "must be an epoch time in ms");
    const keep = [...(options.keepKeys ?? [])];
    return this.#guard("routing.pruneOlderThan", async () => {
      let query = this.#db
        .deleteFrom("routing_entries")
        .where("updated_at", "<", new Date(cutoff))
        .where("suspended", "=", false);
      if (keep.length > 0) query = query.where("session_key", "not in", keep);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
