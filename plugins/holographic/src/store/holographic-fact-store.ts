import {
  type Clock,
  ConflictError,
  InvalidArgumentError,
  isEngramError,
  NotFoundError,
  StoreError,
  systemClock,
} from "@engram/core";
import { type Kysely, sql, type Transaction } from "kysely";
import type { HolographicDB } from "../db/schema/index.js";
import { entityKey } from "../extraction/entity-name.js";
import { bind } from "../hrr/bind.js";
import { type HrrEncoder, sharedHrrEncoder } from "../hrr/hrr-encoder.js";
import { PhaseAccumulator } from "../hrr/phase-accumulator.js";
import { DEFAULT_DIM, type PhaseVector } from "../hrr/phase-vector.js";
import { similarityToUnit } from "../hrr/similarity.js";
import { contradictionScore, DEFAULT_CONTRADICTION_THRESHOLD } from "../retrieval/contradiction.js";
import {
  assertRelevanceWeights,
  DEFAULT_RELEVANCE_WEIGHTS,
  type RelevanceWeights,
} from "../retrieval/fused-score.js";
import { jaccardSorted } from "../retrieval/jaccard.js";
import { halfLifeDaysToMs, temporalDecay } from "../retrieval/temporal-decay.js";
import { clampTrust, DEFAULT_TRUST, trustAfterFeedback } from "../retrieval/trust.js";
import { EntityPlan, type EntityRef } from "./entity-resolution.js";
import { FactIndex, type FactRecord, type IndexedEntity } from "./fact-index.js";
import {
  assertLimit,
  assertTrustBound,
  fullTextQuery,
  normalizeCategory,
  normalizeContent,
  normalizeTags,
} from "./fact-input.js";
import { assertMemoryScope, DEFAULT_MEMORY_SCOPE } from "./memory-scope.js";
import type {
  AddFactInput,
  AddFactResult,
  Contradiction,
  ContradictOptions,
  Entity,
  EntityQueryOptions,
  Fact,
  FeedbackResult,
  ListOptions,
  ScoredFact,
  SearchOptions,
  UpdateFactInput,
} from "./types.js";
import { readVector, vectorBase64, vectorSql } from "./vector-codec.js";

/** Adds written per transaction at most (group commit). */
export const DEFAULT_MAX_BATCH = 1024;
/** Facts `contradict` compares, most recently updated first (pairs grow quadratically). */
export const MAX_CONTRADICT_FACTS = 500;
/** Candidate facts `related` scores at most. */
export const MAX_RELATED_CANDIDATES = 5000;
/** Full-text candidates fetched per requested result, for reranking headroom. */
const CANDIDATE_FACTOR = 3;
/** Retrieval counters are written in the background at most this often. */
const RETRIEVAL_FLUSH_MS = 250;

export interface HolographicFactStoreProps {
  /** A database migrated with `migrateHolographic` (any Kysely whose tables include {@link HolographicDB}). */
  readonly db: Kysely<HolographicDB>;
  /**
   * The memory scope this store reads and writes (default `default`, where facts written before
   * scopes existed live). Facts, entities, aliases and banks of other scopes are invisible to it and
   * untouched by it; the same text may be a fact in several scopes. See {@link assertMemoryScope}.
   */
  readonly scope?: string;
  /** HRR dimension (default 1024). Stored vectors of another dimension are re-encoded on open. */
  readonly dim?: number;
  /**
   * The encoder (and its atom cache) to use; its dimension must be `dim`. Default: the process-wide
   * encoder of that dimension ({@link sharedHrrEncoder}), shared by every store and scope.
   */
  readonly encoder?: HrrEncoder;
  /** Trust of a new fact (default 0.5). */
  readonly defaultTrust?: number;
  /** Weights of full-text rank, Jaccard and HRR in `search` (default 0.4 / 0.3 / 0.3). */
  readonly weights?: RelevanceWeights;
  /** Half-life of the search temporal decay in days; 0 (default) disables decay. */
  readonly temporalDecayHalfLifeDays?: number;
  readonly clock?: Clock;
  /** Adds per write transaction at most (default 1024). */
  readonly maxBatchSize?: number;
  /**
   * Where `search` gets its full-text candidates: `index` (default) ranks them with BM25 over the
   * in-process inverted index; `database` asks Postgres (`tsvector @@ to_tsquery`, `ts_rank`), which
   * costs a round trip and grows with the number of matching rows.
   */
  readonly fullTextSource?: "index" | "database";
}

interface PendingAdd {
  readonly content: string;
  readonly category: string;
  readonly tags: string;
  readonly resolve: (result: AddFactResult) => void;
  readonly reject: (error: unknown) => void;
}

interface Scored {
  readonly record: FactRecord;
  readonly score: number;
}

type Tx = Transaction<HolographicDB>;

const byScoreDesc = (a: Scored, b: Scored) => b.score - a.score || a.record.id - b.record.id;

/**
 * A local fact store with entity resolution, trust feedback and holographic retrieval, on PostgreSQL or
 * PGlite through Kysely.
 *
 * Reads are served from an in-process {@link FactIndex} loaded at open; full-text candidate generation
 * runs in SQL (`tsvector` + GIN). Writes go to the database first, serialised through one queue, and
 * reach the index only after commit, so a failed write leaves both unchanged. Concurrent `add` calls
 * are group-committed: everything queued while a transaction runs goes into the next one.
 *
 * A store serves one memory scope ({@link HolographicFactStoreProps.scope}): every query filters by
 * it and the index holds only its rows, so one scope's facts never surface in another's search,
 * probe, related, reason, contradict or list. Open one store per scope (`HolographicStores` does it
 * on demand).
 *
 * One process writes a given scope: the index does not observe other processes' writes (call
 * {@link reload} to pick them up).
 */
export class HolographicFactStore {
  readonly dim: number;
  readonly scope: string;
  private readonly db: Kysely<HolographicDB>;
  private readonly encoder: HrrEncoder;
  private readonly clock: Clock;
  private readonly defaultTrust: number;
  private readonly weights: RelevanceWeights;
  private readonly halfLifeMs: number;
  private readonly maxBatch: number;
  private readonly fullTextSource: "index" | "database";
  private index: FactIndex;

  private queue: Promise<unknown> = Promise.resolve();
  private readonly pendingAdds: PendingAdd[] = [];
  private readonly pendingByContent = new Map<string, Promise<AddFactResult>>();
  private addFlushScheduled = false;
  private readonly pendingRetrievals = new Map<number, number>();
  private retrievalTimer: NodeJS.Timeout | undefined;
  private closed = false;

  // Per-query scratch vectors: filled and read synchronously, never across an await.
  private readonly queryVector: PhaseVector;
  private readonly keyA: PhaseVector;
  private readonly keyB: PhaseVector;

  private constructor(props: HolographicFactStoreProps) {
    this.db = props.db;
    this.scope = assertMemoryScope(props.scope ?? DEFAULT_MEMORY_SCOPE);
    this.dim = props.dim ?? DEFAULT_DIM;
    this.encoder = props.encoder ?? sharedHrrEncoder(this.dim);
    if (this.encoder.dim !== this.dim) {
      throw new InvalidArgumentError("encoder", `has dimension ${this.encoder.dim}, the store ${this.dim}`);
    }
    this.clock = props.clock ?? systemClock;
    this.defaultTrust = assertTrustBound("defaultTrust", props.defaultTrust ?? DEFAULT_TRUST);
    this.weights = props.weights ?? DEFAULT_RELEVANCE_WEIGHTS;
    assertRelevanceWeights(this.weights);
    this.halfLifeMs = halfLifeDaysToMs(props.temporalDecayHalfLifeDays ?? 0);
    this.maxBatch = props.maxBatchSize ?? DEFAULT_MAX_BATCH;
    this.fullTextSource = props.fullTextSource ?? "index";
    this.index = new FactIndex(this.dim);
    this.queryVector = new Uint16Array(this.dim);
    this.keyA = new Uint16Array(this.dim);
    this.keyB = new Uint16Array(this.dim);
  }

  /** Opens the store and loads the index. The database must already be migrated (`migrateHolographic`). */
  static async open(props: HolographicFactStoreProps): Promise<HolographicFactStore> {
    const store = new HolographicFactStore(props);
    await store.reload();
    return store;
  }

  /** Number of facts. */
  get size(): number {
    return this.index.size;
  }

  // ---- loading ------------------------------------------------------------------------------------

  /** Rebuilds the index from the database (after another process wrote, or to recover). */
  reload(): Promise<void> {
    return this.exclusive(async () => {
      const index = new FactIndex(this.dim);
      const stale: Array<{ id: number; vector: PhaseVector }> = [];
      try {
        // Entities, aliases and fact-entity links in one round trip: a process opens a store per
        // memory scope, and most scopes are small, so the number of queries dominates an open.
        const { rows: graphRows } = await sql<{
          entities: Array<[number, string, string]>;
          aliases: Array<[string, string, number]>;
          links: Array<[number, number]>;
        }>`
          select
            (select coalesce(json_agg(json_build_array(id, name, key)), '[]'::json)
               from holographic_entities where scope = ${this.scope}) as entities,
            (select coalesce(json_agg(json_build_array(alias, alias_key, entity_id)
                                      order by created_at, alias_key), '[]'::json)
               from holographic_entity_aliases where scope = ${this.scope}) as aliases,
            (select coalesce(json_agg(json_build_array(l.fact_id, l.entity_id)
                                      order by l.fact_id, l.entity_id), '[]'::json)
               from holographic_fact_entities as l
               join holographic_facts as f on f.id = l.fact_id
              where f.scope = ${this.scope}) as links
        `.execute(this.db);
        const graph = graphRows[0] ?? { entities: [], aliases: [], links: [] };
        for (const [id, name, key] of graph.entities) index.addEntity(Number(id), name, key);
        for (const [alias, aliasKey, entityId] of graph.aliases)
          index.addAlias(Number(entityId), alias, aliasKey);
        const links = new Map<number, number[]>();
        // Links carry no scope of their own: their facts do.
        for (const [factId, entityId] of graph.links) {
          const list = links.get(Number(factId));
          if (list) list.push(Number(entityId));
          else links.set(Number(factId), [Number(entityId)]);
        }
        // Pages keep the result sets (2·dim bytes of vector per row) bounded.
        let after = 0;
        for (;;) {
          const rows = await this.db
            .selectFrom("holographic_facts")
            .select([
              "id",
              "content",
              "category",
              "tags",
              "trust_score",
              "retrieval_count",
              "helpful_count",
              "created_at",
              "updated_at",
              sql<string | null>`encode(hrr_vector, 'base64')`.as("hrr_vector"),
            ])
            .where("scope", "=", this.scope)
            .where("id", ">", after)
            .orderBy("id")
            .limit(5000)
            .execute();
          if (rows.length === 0) break;
          for (const row of rows) {
            const entityIds = links.get(row.id) ?? [];
            let vector = readVector(row.hrr_vector, this.dim);
            if (!vector) {
              const names = entityIds.flatMap((id) => index.entities.get(id)?.name ?? []);
              vector = this.encoder.encodeFact(row.content, names);
              stale.push({ id: row.id, vector });
            }
            index.insert(
              {
                id: row.id,
                content: row.content,
                category: row.category,
                tags: row.tags,
                trust: row.trust_score,
                retrievalCount: row.retrieval_count,
                helpfulCount: row.helpful_count,
                createdAt: row.created_at,
                updatedAt: row.updated_at,
                entityIds,
              },
              vector,
            );
          }
          after = rows[rows.length - 1]!.id;
        }
        // Vectors missing or of another dimension were re-encoded above; store them so the next open is fast.
        for (const { id, vector } of stale) {
          await this.db
            .updateTable("holographic_facts")
            .set({ hrr_vector: vectorSql(vector) })
            .where("id", "=", id)
            .execute();
        }
      } catch (error) {
        throw new StoreError("holographic.reload", error);
      }
      this.index = index;
    });
  }

  // ---- write queue --------------------------------------------------------------------------------

  /** Runs `work` after every write queued before it; one write at a time keeps index and database in step. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("holographic (closed)", new Error("the fact store is closed"));
  }

  /** Waits for every queued write, including background retrieval counters. */
  async flush(): Promise<void> {
    if (this.retrievalTimer) {
      clearTimeout(this.retrievalTimer);
      this.retrievalTimer = undefined;
      void this.exclusive(() => this.writeRetrievals());
    }
    await this.exclusive(async () => undefined);
  }

  /** Flushes pending writes; later calls fail. Does not close the database (the caller owns it). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }

  // ---- add ----------------------------------------------------------------------------------------

  /**
   * Adds a fact, or returns the existing one with the same (trimmed) content. Entities are extracted
   * and linked ("X aka Y" records Y as an alias of X); the HRR vector and the category bank are
   * updated. Resolves once the fact is committed.
   */
  add(input: AddFactInput): Promise<AddFactResult> {
    try {
      this.assertOpen();
      const content = normalizeContent(input.content);
      const category = normalizeCategory(input.category);
      const tags = normalizeTags(input.tags);
      const existingId = this.index.byContent.get(content);
      const existing = existingId === undefined ? undefined : this.index.facts.get(existingId);
      if (existing) return Promise.resolve({ fact: this.index.toFact(existing), created: false });
      const pending = this.pendingByContent.get(content);
      if (pending) return pending.then((result) => ({ fact: result.fact, created: false }));
      const promise = new Promise<AddFactResult>((resolve, reject) => {
        this.pendingAdds.push({ content, category, tags, resolve, reject });
      });
      this.pendingByContent.set(content, promise);
      const forget = () => this.pendingByContent.delete(content);
      promise.then(forget, forget);
      this.scheduleAddFlush();
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Adds many facts in as few transactions as possible; one result per input, in order. */
  addMany(inputs: readonly AddFactInput[]): Promise<AddFactResult[]> {
    return Promise.all(inputs.map((input) => this.add(input)));
  }

  private scheduleAddFlush(): void {
    if (this.addFlushScheduled) return;
    this.addFlushScheduled = true;
    void this.exclusive(async () => {
      this.addFlushScheduled = false;
      const batch = this.pendingAdds.splice(0, this.maxBatch);
      if (this.pendingAdds.length > 0) this.scheduleAddFlush();
      if (batch.length === 0) return;
      try {
        const results = await this.writeAdds(batch);
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
      } catch (error) {
        const failure = error instanceof StoreError ? error : new StoreError("holographic.add", error);
        for (const item of batch) item.reject(failure);
      }
    });
  }

  private async writeAdds(batch: readonly PendingAdd[]): Promise<AddFactResult[]> {
    const plan = new EntityPlan(this.index.entityByKey);
    const refs = batch.map((item) => plan.planText(item.content));
    const positionOf = new Map(batch.map((item, i) => [item.content, i]));
    const written = await this.db.transaction().execute(async (tx) => {
      const resolved = await this.applyEntityPlan(tx, plan);
      const entityIds = refs.map((list) => [...new Set(list.map(resolved.idOf))].sort((a, b) => a - b));
      const vectors = batch.map((item, i) =>
        this.encoder.encodeFact(
          item.content,
          entityIds[i]!.map((id) => resolved.names.get(id) ?? ""),
        ),
      );
      // One statement with array parameters: the per-row parameter overhead dominates multi-row VALUES.
      const { rows: inserted } = await sql<{
        id: number;
        content: string;
        created_at: Date;
        updated_at: Date;
      }>`
        insert into holographic_facts (scope, content, category, tags, trust_score, hrr_vector)
        select ${this.scope}, content, category, tags, ${this.defaultTrust}, decode(vector, 'base64')
        from unnest(
          ${batch.map((item) => item.content)}::text[],
          ${batch.map((item) => item.category)}::text[],
          ${batch.map((item) => item.tags)}::text[],
          ${vectors.map(vectorBase64)}::text[]
        ) as input(content, category, tags, vector)
        on conflict (scope, content) do nothing
        returning id, content, created_at, updated_at
      `.execute(tx);
      const links = inserted.flatMap((row) =>
        entityIds[positionOf.get(row.content)!]!.map((entityId) => ({
          fact_id: row.id,
          entity_id: entityId,
        })),
      );
      if (links.length > 0) {
        await sql`
          insert into holographic_fact_entities (fact_id, entity_id)
          select * from unnest(${links.map((link) => link.fact_id)}::bigint[], ${links.map((link) => link.entity_id)}::bigint[])
        `.execute(tx);
      }
      const bankChanges = inserted.map((row) => {
        const i = positionOf.get(row.content)!;
        return { category: batch[i]!.category, add: vectors[i]! };
      });
      const banks = this.bankChanges(bankChanges);
      await this.writeBanks(tx, banks);
      return { resolved, entityIds, vectors, inserted, banks };
    });

    // Committed: now the index may change. The banks were computed for the write; reuse them.
    this.applyResolvedEntities(written.resolved);
    for (const [category, bank] of written.banks) this.index.setBank(category, bank);
    const results: AddFactResult[] = new Array(batch.length);
    const insertedRows = new Map(written.inserted.map((row) => [row.content, row]));
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const row = insertedRows.get(item.content);
      if (!row) {
        // Content another process inserted first (in this scope): the existing row wins; load it.
        results[i] = { fact: await this.loadFactByContent(item.content), created: false };
        continue;
      }
      const record = this.index.insert(
        {
          id: row.id,
          content: item.content,
          category: item.category,
          tags: item.tags,
          trust: this.defaultTrust,
          retrievalCount: 0,
          helpfulCount: 0,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
          entityIds: written.entityIds[i]!,
        },
        written.vectors[i]!,
        false,
      );
      results[i] = { fact: this.index.toFact(record), created: true };
    }
    return results;
  }

  private async loadFactByContent(content: string): Promise<Fact> {
    const row = await this.db
      .selectFrom("holographic_facts")
      .select([
        "id",
        "content",
        "category",
        "tags",
        "trust_score",
        "retrieval_count",
        "helpful_count",
        "created_at",
        "updated_at",
        sql<string | null>`encode(hrr_vector, 'base64')`.as("hrr_vector"),
      ])
      .where("scope", "=", this.scope)
      .where("content", "=", content)
      .executeTakeFirstOrThrow();
    const linkRows = await this.db
      .selectFrom("holographic_fact_entities")
      .select("entity_id")
      .where("fact_id", "=", row.id)
      .orderBy("entity_id")
      .execute();
    const entityIds = linkRows.map((link) => link.entity_id).filter((id) => this.index.entities.has(id));
    const vector =
      readVector(row.hrr_vector, this.dim) ??
      this.encoder.encodeFact(
        row.content,
        entityIds.map((id) => this.index.entities.get(id)!.name),
      );
    const record = this.index.insert(
      {
        id: row.id,
        content: row.content,
        category: row.category,
        tags: row.tags,
        trust: row.trust_score,
        retrievalCount: row.retrieval_count,
        helpfulCount: row.helpful_count,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        entityIds,
      },
      vector,
    );
    return this.index.toFact(record);
  }

  // ---- entities in writes -------------------------------------------------------------------------

  /** Inserts the plan's entities and aliases; returns how to map refs to ids and ids to names. */
  private async applyEntityPlan(tx: Tx, plan: EntityPlan) {
    const created = new Map<string, { id: number; name: string; key: string }>();
    if (plan.newEntities.size > 0) {
      // `do update` (a no-op) instead of `do nothing`, so rows another process inserted come back too.
      const rows = await tx
        .insertInto("holographic_entities")
        .values([...plan.newEntities].map(([key, name]) => ({ scope: this.scope, key, name })))
        .onConflict((oc) => oc.columns(["scope", "key"]).doUpdateSet({ key: (eb) => eb.ref("excluded.key") }))
        .returning(["id", "name", "key"])
        .execute();
      for (const row of rows) created.set(row.key, row);
    }
    const idOf = (ref: EntityRef): number => {
      if ("id" in ref) return ref.id;
      const row = created.get(ref.newKey);
      if (!row) throw new Error(`entity ${ref.newKey} was planned but not inserted`);
      return row.id;
    };
    const aliases = [...plan.newAliases].map(([aliasKey, { alias, target }]) => ({
      scope: this.scope,
      alias_key: aliasKey,
      alias,
      entity_id: idOf(target),
    }));
    if (aliases.length > 0) {
      await tx
        .insertInto("holographic_entity_aliases")
        .values(aliases)
        .onConflict((oc) => oc.columns(["scope", "alias_key"]).doNothing())
        .execute();
    }
    const names = new Map<number, string>();
    for (const entity of this.index.entities.values()) names.set(entity.id, entity.name);
    for (const row of created.values()) names.set(row.id, row.name);
    return { created, aliases, idOf, names: { get: (id: number) => names.get(id) } };
  }

  private applyResolvedEntities(
    resolved: Awaited<ReturnType<HolographicFactStore["applyEntityPlan"]>>,
  ): void {
    for (const row of resolved.created.values()) this.index.addEntity(row.id, row.name, row.key);
    for (const alias of resolved.aliases) this.index.addAlias(alias.entity_id, alias.alias, alias.alias_key);
  }

  // ---- banks --------------------------------------------------------------------------------------

  /** The bank accumulators after applying `changes`, per touched category (the index is untouched). */
  private bankChanges(
    changes: ReadonlyArray<{ category: string; add?: PhaseVector; remove?: PhaseVector }>,
  ): Map<string, PhaseAccumulator> {
    const next = new Map<string, PhaseAccumulator>();
    for (const change of changes) {
      let bank = next.get(change.category);
      if (!bank) {
        bank = new PhaseAccumulator(this.dim);
        const current = this.index.banks.get(change.category);
        if (current) bank.merge(current);
        next.set(change.category, bank);
      }
      if (change.add) bank.add(change.add);
      if (change.remove) bank.remove(change.remove);
    }
    return next;
  }

  private async writeBanks(tx: Tx, banks: ReadonlyMap<string, PhaseAccumulator>): Promise<void> {
    for (const [category, bank] of banks) {
      const name = `cat:${category}`;
      if (bank.count <= 0) {
        await tx
          .deleteFrom("holographic_banks")
          .where("scope", "=", this.scope)
          .where("name", "=", name)
          .execute();
        continue;
      }
      const row = {
        scope: this.scope,
        name,
        dim: this.dim,
        fact_count: bank.count,
        vector: vectorSql(bank.toPhaseVector()),
      };
      await tx
        .insertInto("holographic_banks")
        .values(row)
        .onConflict((oc) =>
          oc.columns(["scope", "name"]).doUpdateSet({
            dim: row.dim,
            fact_count: row.fact_count,
            vector: row.vector,
            updated_at: sql`now()`,
          }),
        )
        .execute();
    }
  }

  /** The bank vector of a category (the circular mean of its facts), or `undefined` when it is empty. */
  bank(category: string): { vector: PhaseVector; factCount: number } | undefined {
    const bank = this.index.banks.get(category);
    if (!bank || bank.count <= 0) return undefined;
    return { vector: bank.toPhaseVector(), factCount: bank.count };
  }

  // ---- update, remove, feedback -------------------------------------------------------------------

  /** Changes content, category, tags and/or trust of a fact. Content changes re-link entities and re-encode. */
  update(id: number, input: UpdateFactInput): Promise<Fact> {
    return this.exclusive(async () => {
      this.assertOpen();
      const record = this.requireRecord(id);
      const content = input.content === undefined ? record.content : normalizeContent(input.content);
      const category = input.category === undefined ? record.category : normalizeCategory(input.category);
      const tags = input.tags === undefined ? record.tags : normalizeTags(input.tags);
      if (input.trustDelta !== undefined && !Number.isFinite(input.trustDelta)) {
        throw new InvalidArgumentError("trustDelta", `${input.trustDelta} must be a finite number`);
      }
      const trust = clampTrust(record.trust + (input.trustDelta ?? 0));
      const contentChanged = content !== record.content;
      if (contentChanged && this.index.byContent.has(content)) {
        throw new ConflictError(`Another fact already has this content`, {
          factId: this.index.byContent.get(content),
        });
      }
      const plan = new EntityPlan(this.index.entityByKey);
      const refs = contentChanged ? plan.planText(content) : [];
      const oldVector = Uint16Array.from(this.index.vectorOf(record));
      const outcome = await this.db.transaction().execute(async (tx) => {
        const resolved = await this.applyEntityPlan(tx, plan);
        const entityIds = contentChanged
          ? [...new Set(refs.map((ref) => resolved.idOf(ref)))].sort((a, b) => a - b)
          : record.entityIds;
        const vector = contentChanged
          ? this.encoder.encodeFact(
              content,
              entityIds.map((entityId) => resolved.names.get(entityId) ?? ""),
            )
          : oldVector;
        const row = await tx
          .updateTable("holographic_facts")
          .set({
            content,
            category,
            tags,
            trust_score: trust,
            updated_at: sql`now()`,
            ...(contentChanged ? { hrr_vector: vectorSql(vector) } : {}),
          })
          .where("id", "=", id)
          .where("scope", "=", this.scope)
          .returning(["updated_at"])
          .executeTakeFirst();
        if (!row) throw new NotFoundError("fact", String(id));
        if (contentChanged) {
          await tx.deleteFrom("holographic_fact_entities").where("fact_id", "=", id).execute();
          if (entityIds.length > 0) {
            await tx
              .insertInto("holographic_fact_entities")
              .values(entityIds.map((entityId) => ({ fact_id: id, entity_id: entityId })))
              .execute();
          }
        }
        if (contentChanged || category !== record.category) {
          await this.writeBanks(
            tx,
            this.bankChanges([
              { category: record.category, remove: oldVector },
              { category, add: vector },
            ]),
          );
        }
        return { resolved, entityIds, vector, updatedAt: row.updated_at };
      });
      this.applyResolvedEntities(outcome.resolved);
      this.index.remove(id);
      const next = this.index.insert(
        {
          id,
          content,
          category,
          tags,
          trust,
          retrievalCount: record.retrievalCount,
          helpfulCount: record.helpfulCount,
          createdAt: record.createdAt,
          updatedAt: outcome.updatedAt,
          entityIds: outcome.entityIds,
        },
        outcome.vector,
      );
      return this.index.toFact(next);
    }).catch((error: unknown) => this.wrap("holographic.update", error));
  }

  /** Deletes a fact and its entity links. Resolves false when no such fact exists. */
  remove(id: number): Promise<boolean> {
    return this.exclusive(async () => {
      this.assertOpen();
      const record = this.index.facts.get(id);
      if (!record) return false;
      const vector = Uint16Array.from(this.index.vectorOf(record));
      await this.db.transaction().execute(async (tx) => {
        await tx
          .deleteFrom("holographic_facts")
          .where("id", "=", id)
          .where("scope", "=", this.scope)
          .execute();
        await this.writeBanks(tx, this.bankChanges([{ category: record.category, remove: vector }]));
      });
      this.index.remove(id);
      return true;
    }).catch((error: unknown) => this.wrap("holographic.remove", error));
  }

  /** Records feedback: trust +0.05 (and helpful count +1) when helpful, -0.10 when not; clamped to [0, 1]. */
  feedback(id: number, helpful: boolean): Promise<FeedbackResult> {
    return this.exclusive(async () => {
      this.assertOpen();
      if (typeof helpful !== "boolean") throw new InvalidArgumentError("helpful", "must be a boolean");
      const record = this.requireRecord(id);
      const oldTrust = record.trust;
      const newTrust = trustAfterFeedback(oldTrust, helpful);
      const row = await this.db
        .updateTable("holographic_facts")
        .set({
          trust_score: newTrust,
          helpful_count: sql`helpful_count + ${helpful ? 1 : 0}`,
          updated_at: sql`now()`,
        })
        .where("id", "=", id)
        .where("scope", "=", this.scope)
        .returning(["helpful_count", "updated_at"])
        .executeTakeFirst();
      if (!row) throw new NotFoundError("fact", String(id));
      record.trust = newTrust;
      record.helpfulCount = row.helpful_count;
      record.updatedAt = row.updated_at;
      return { factId: id, oldTrust, newTrust, helpfulCount: row.helpful_count };
    }).catch((error: unknown) => this.wrap("holographic.feedback", error));
  }

  private requireRecord(id: number): FactRecord {
    if (!Number.isSafeInteger(id) || id < 1)
      throw new InvalidArgumentError("id", `${id} must be a positive integer`);
    const record = this.index.facts.get(id);
    if (!record) throw new NotFoundError("fact", String(id));
    return record;
  }

  /** Typed errors pass through; anything else (a driver error) becomes `STORE_FAILED` with it as `cause`. */
  private wrap(operation: string, error: unknown): never {
    if (isEngramError(error)) throw error;
    throw new StoreError(operation, error);
  }

  // ---- reads --------------------------------------------------------------------------------------

  /** The fact with this id, or `undefined`. */
  get(id: number): Fact | undefined {
    const record = this.index.facts.get(id);
    return record ? this.index.toFact(record) : undefined;
  }

  /** Facts by trust, highest first. */
  list(options: ListOptions = {}): Fact[] {
    const minTrust = assertTrustBound("minTrust", options.minTrust ?? 0);
    const limit = assertLimit("limit", options.limit ?? 50);
    const category = options.category === undefined ? undefined : normalizeCategory(options.category);
    const matches: FactRecord[] = [];
    for (const record of this.index.facts.values()) {
      if (record.trust < minTrust || (category !== undefined && record.category !== category)) continue;
      matches.push(record);
    }
    matches.sort((a, b) => b.trust - a.trust || b.updatedAt.getTime() - a.updatedAt.getTime() || a.id - b.id);
    return matches.slice(0, limit).map((record) => this.index.toFact(record));
  }

  /** An entity by name or alias (case-insensitive), with its aliases and linked fact count. */
  entity(name: string): Entity | undefined {
    const entity = this.resolveEntity(name);
    return entity
      ? {
          id: entity.id,
          name: entity.name,
          aliases: [...entity.aliases].sort(),
          factCount: entity.facts.size,
        }
      : undefined;
  }

  private resolveEntity(name: string): IndexedEntity | undefined {
    const id = this.index.entityByKey.get(entityKey(name));
    return id === undefined ? undefined : this.index.entities.get(id);
  }

  /**
   * Hybrid search: `limit·3` full-text candidates (BM25 over the in-process index, or `ts_rank` over
   * the `tsvector` column with `fullTextSource: "database"`; terms OR-joined), reranked
   * by `0.4·rank + 0.3·Jaccard + 0.3·HRR`, times trust, times the optional temporal decay. The HRR term
   * compares each fact with the query text bound to the content role. Bumps the retrieval count of the
   * returned facts (written in the background; `flush()` waits for it).
   */
  async search(query: string, options: SearchOptions = {}): Promise<ScoredFact[]> {
    this.assertOpen();
    if (typeof query !== "string") throw new InvalidArgumentError("query", "must be a string");
    const limit = assertLimit("limit", options.limit ?? 10);
    const minTrust = assertTrustBound("minTrust", options.minTrust ?? 0.3);
    const category = options.category === undefined ? undefined : normalizeCategory(options.category);
    const rows =
      this.fullTextSource === "database"
        ? await this.databaseCandidates(query, limit * CANDIDATE_FACTOR, minTrust, category)
        : this.index.fullText
            .search(query, limit * CANDIDATE_FACTOR, (id) => {
              const record = this.index.facts.get(id);
              return (
                record !== undefined &&
                record.trust >= minTrust &&
                (category === undefined || record.category === category)
              );
            })
            .map((hit) => ({ id: hit.id, rank: hit.score }));
    if (rows.length === 0) return [];

    // Synchronous from here: the scratch vectors cannot be clobbered by another query.
    const queryTokens = this.index.queryTokens(query);
    const key = bind(
      this.encoder.encodeText(query, this.queryVector),
      this.encoder.roleContent,
      this.queryVector,
    );
    let maxRank = 1e-9;
    for (const row of rows) maxRank = Math.max(maxRank, Math.abs(row.rank));
    const now = this.clock.now();
    const { fullText, jaccard, hrr } = this.weights;
    const scored: Scored[] = [];
    for (const row of rows) {
      const record = this.index.facts.get(Number(row.id));
      // Committed by a write whose index update has not run yet, or by another process: skip.
      if (!record) continue;
      const relevance =
        fullText * (Math.abs(row.rank) / maxRank) +
        jaccard * jaccardSorted(queryTokens, record.tokens) +
        hrr * similarityToUnit(this.index.similarity(record, key));
      const decay = this.halfLifeMs > 0 ? temporalDecay(record.updatedAt.getTime(), now, this.halfLifeMs) : 1;
      scored.push({ record, score: relevance * record.trust * decay });
    }
    const top = scored.sort(byScoreDesc).slice(0, limit);
    for (const { record } of top) this.countRetrieval(record);
    return top.map(({ record, score }) => ({ ...this.index.toFact(record), score }));
  }

  private async databaseCandidates(
    query: string,
    limit: number,
    minTrust: number,
    category: string | undefined,
  ): Promise<Array<{ id: number; rank: number }>> {
    const tsquery = fullTextQuery(query);
    if (!tsquery) return [];
    try {
      const result = await sql<{ id: number; rank: number }>`
        select f.id, ts_rank(f.search_vector, q) as rank
        from holographic_facts f, to_tsquery('english', ${tsquery}) q
        where f.scope = ${this.scope} and f.search_vector @@ q and f.trust_score >= ${minTrust}
        ${category === undefined ? sql`` : sql`and f.category = ${category}`}
        order by rank desc
        limit ${limit}
      `.execute(this.db);
      return result.rows;
    } catch (error) {
      throw new StoreError("holographic.search", error);
    }
  }

  /**
   * Facts where `entity` (a name or alias) plays the entity role, scored by
   * `(similarity(fact, bind(entity, ROLE_ENTITY)) + 1) / 2 · trust`. Candidates are the facts linked to
   * the entity, so the cost follows the entity's fact count, not the store size. An unknown entity
   * falls back to `search`.
   */
  async probe(entity: string, options: EntityQueryOptions = {}): Promise<ScoredFact[]> {
    this.assertOpen();
    const limit = assertLimit("limit", options.limit ?? 10);
    const category = options.category === undefined ? undefined : normalizeCategory(options.category);
    const resolved = this.resolveEntity(entity);
    if (!resolved) return this.search(entity, { limit, minTrust: 0, ...(category ? { category } : {}) });
    const key = this.encoder.entityKey(resolved.name, this.keyA);
    const scored: Scored[] = [];
    for (const id of resolved.facts) {
      const record = this.index.facts.get(id);
      if (!record || (category !== undefined && record.category !== category)) continue;
      scored.push({ record, score: similarityToUnit(this.index.similarity(record, key)) * record.trust });
    }
    return this.top(scored, limit);
  }

  /**
   * Facts structurally connected to `entity`: its own facts and those of the entities it co-occurs
   * with, scored by how strongly the entity appears in either role (entity or content word):
   * `(max(sim(fact, entity⊛ROLE_ENTITY), sim(fact, entity⊛ROLE_CONTENT)) + 1) / 2 · trust`.
   */
  async related(entity: string, options: EntityQueryOptions = {}): Promise<ScoredFact[]> {
    this.assertOpen();
    const limit = assertLimit("limit", options.limit ?? 10);
    const category = options.category === undefined ? undefined : normalizeCategory(options.category);
    const resolved = this.resolveEntity(entity);
    if (!resolved) return this.search(entity, { limit, minTrust: 0, ...(category ? { category } : {}) });
    const candidates = new Set<number>(resolved.facts);
    outer: for (const id of resolved.facts) {
      for (const neighbourId of this.index.facts.get(id)?.entityIds ?? []) {
        if (neighbourId === resolved.id) continue;
        for (const factId of this.index.entities.get(neighbourId)?.facts ?? []) {
          candidates.add(factId);
          if (candidates.size >= MAX_RELATED_CANDIDATES) break outer;
        }
      }
    }
    const entityRoleKey = this.encoder.entityKey(resolved.name, this.keyA);
    const contentRoleKey = this.encoder.contentKey(resolved.name, this.keyB);
    const scored: Scored[] = [];
    for (const id of candidates) {
      const record = this.index.facts.get(id);
      if (!record || (category !== undefined && record.category !== category)) continue;
      const presence = this.index.maxSimilarity(record, entityRoleKey, contentRoleKey);
      scored.push({ record, score: similarityToUnit(presence) * record.trust });
    }
    return this.top(scored, limit);
  }

  /**
   * Facts involving all of `entities` at once (a vector-space join): each entity's presence is the
   * larger of its entity-role and content-role similarity, and a fact scores by the smallest presence
   * (AND semantics), shifted to [0, 1], times trust. Candidates are the facts linked to any of them.
   */
  async reason(entities: readonly string[], options: EntityQueryOptions = {}): Promise<ScoredFact[]> {
    this.assertOpen();
    if (!Array.isArray(entities) || entities.some((name) => typeof name !== "string" || !name.trim())) {
      throw new InvalidArgumentError("entities", "must be a non-empty array of non-empty strings");
    }
    const limit = assertLimit("limit", options.limit ?? 10);
    const category = options.category === undefined ? undefined : normalizeCategory(options.category);
    if (entities.length === 0) return [];
    const names: string[] = [];
    const candidates = new Set<number>();
    for (const name of entities) {
      const resolved = this.resolveEntity(name);
      names.push(resolved ? resolved.name : name.trim());
      for (const id of resolved?.facts ?? []) candidates.add(id);
    }
    if (candidates.size === 0) {
      return this.search(entities.join(" "), { limit, minTrust: 0, ...(category ? { category } : {}) });
    }
    const keys = names.map((name) => ({
      entity: this.encoder.entityKey(name),
      content: this.encoder.contentKey(name),
    }));
    const scored: Scored[] = [];
    for (const id of candidates) {
      const record = this.index.facts.get(id);
      if (!record || (category !== undefined && record.category !== category)) continue;
      let weakest = Number.POSITIVE_INFINITY;
      for (const key of keys) {
        const presence = this.index.maxSimilarity(record, key.entity, key.content);
        if (presence < weakest) weakest = presence;
      }
      scored.push({ record, score: similarityToUnit(weakest) * record.trust });
    }
    return this.top(scored, limit);
  }

  /**
   * Pairs of facts that share entities (entity-set Jaccard ≥ 0.3) but whose vectors disagree:
   * `overlap · (1 - (similarity + 1) / 2)`, reported when at least `threshold`. Only the
   * {@link MAX_CONTRADICT_FACTS} most recently updated facts are compared, and only pairs that share
   * an entity (found through the inverted index, not by comparing every pair).
   */
  async contradict(options: ContradictOptions = {}): Promise<Contradiction[]> {
    this.assertOpen();
    const limit = assertLimit("limit", options.limit ?? 10);
    const threshold = assertTrustBound("threshold", options.threshold ?? DEFAULT_CONTRADICTION_THRESHOLD);
    const category = options.category === undefined ? undefined : normalizeCategory(options.category);
    const recent: FactRecord[] = [];
    for (const record of this.index.facts.values()) {
      if (record.entityIds.length === 0 || (category !== undefined && record.category !== category)) continue;
      recent.push(record);
    }
    recent.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || b.id - a.id);
    recent.length = Math.min(recent.length, MAX_CONTRADICT_FACTS);
    const window = new Set(recent.map((record) => record.id));
    const found: Contradiction[] = [];
    const seen = new Set<string>();
    for (const a of recent) {
      for (const entityId of a.entityIds) {
        for (const bId of this.index.entities.get(entityId)?.facts ?? []) {
          if (bId <= a.id || !window.has(bId)) continue;
          const pair = `${a.id}:${bId}`;
          if (seen.has(pair)) continue;
          seen.add(pair);
          const b = this.index.facts.get(bId)!;
          const overlap = jaccardSorted(a.entityIds, b.entityIds);
          const similarity = this.index.similarity(b, this.index.vectorOf(a));
          const score = contradictionScore(overlap, similarity);
          if (score < threshold || score === 0) continue;
          const shared = a.entityIds.filter((id) => b.entityIds.includes(id));
          found.push({
            factA: this.index.toFact(a),
            factB: this.index.toFact(b),
            entityOverlap: overlap,
            contentSimilarity: similarity,
            score,
            sharedEntities: shared.map((id) => this.index.entities.get(id)?.name ?? "").sort(),
          });
        }
      }
    }
    found.sort((x, y) => y.score - x.score || x.factA.id - y.factA.id || x.factB.id - y.factB.id);
    return found.slice(0, limit);
  }

  private top(scored: Scored[], limit: number): ScoredFact[] {
    return scored
      .sort(byScoreDesc)
      .slice(0, limit)
      .map(({ record, score }) => ({ ...this.index.toFact(record), score }));
  }

  // ---- retrieval counters -------------------------------------------------------------------------

  private countRetrieval(record: FactRecord): void {
    record.retrievalCount++;
    this.pendingRetrievals.set(record.id, (this.pendingRetrievals.get(record.id) ?? 0) + 1);
    // Coalesced: one UPDATE per interval instead of a write on every search's hot path.
    this.retrievalTimer ??= setTimeout(() => {
      this.retrievalTimer = undefined;
      void this.exclusive(() => this.writeRetrievals());
    }, RETRIEVAL_FLUSH_MS);
    this.retrievalTimer.unref?.();
  }

  private async writeRetrievals(): Promise<void> {
    if (this.pendingRetrievals.size === 0) return;
    const ids = [...this.pendingRetrievals.keys()];
    const counts = ids.map((id) => this.pendingRetrievals.get(id)!);
    this.pendingRetrievals.clear();
    try {
      await sql`
        update holographic_facts as f set retrieval_count = f.retrieval_count + v.n
        from (select unnest(${ids}::bigint[]) as id, unnest(${counts}::int[]) as n) as v
        where f.id = v.id and f.scope = ${this.scope}
      `.execute(this.db);
    } catch {
      // Counters are statistics: a failed bump is retried with the next batch rather than lost.
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        this.pendingRetrievals.set(id, (this.pendingRetrievals.get(id) ?? 0) + counts[i]!);
      }
    }
  }
}
