import { randomUUID } from "node:crypto";
import { type Expression, type Kysely, type RawBuilder, type SqlBool, sql } from "kysely";
import type { HindsightServerDB } from "./db/schema.js";
import { extractEntities, extractFacts } from "./extraction.js";
import type {
  Budget,
  RecallRequest,
  ReflectRequest,
  RetainItem,
  RetainRequest,
  TagFilter,
} from "./hindsight-requests.js";
import { HttpError } from "./http/fastapi-errors.js";
import { reciprocalRankFusion } from "./retrieval/reciprocal-rank-fusion.js";
import { type TimeWindow, temporalWindowOf } from "./retrieval/temporal-window.js";
import { type TrigramVector, trigramCosine, trigramVector } from "./retrieval/trigram-similarity.js";

/** The fact types recall knows; `opinion` (gone from Hindsight's API) is accepted and ignored. */
export const FACT_TYPES = ["world", "experience", "observation"] as const;

/** `RecallResult` as the wire carries it. */
export interface RecallResultBody {
  id: string;
  text: string;
  type: string;
  entities: string[] | null;
  context: string | null;
  occurred_start: string | null;
  occurred_end: string | null;
  mentioned_at: string | null;
  document_id: string | null;
  metadata: Record<string, string> | null;
  chunk_id: string | null;
  tags: string[];
  source_fact_ids: string[] | null;
  scores: { final: number; reranker: null; semantic: number | null; keyword: number | null };
}

/** Trigram vectors kept in memory for the semantic arm. */
const VECTOR_CACHE_SIZE = 200_000;

/** Candidates each arm contributes, by budget. */
const ARM_LIMIT: Record<Budget, number> = { low: 20, mid: 50, high: 100 };

/** Token estimate of a result (Hindsight counts with tiktoken; 4 characters per token is close). */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function textArray(values: readonly string[]): RawBuilder<string[]> {
  // JSON in, text[] out: one parameter, the same on pg and PGlite, no array-literal quoting rules.
  return sql<string[]>`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))::text[]`;
}

/** The `tags_match` rule as a SQL predicate over `hindsight_units.tags`. */
export function tagPredicate(filter: TagFilter): RawBuilder<SqlBool> {
  const tags = filter.tags ?? [];
  const wanted = textArray(tags);
  switch (filter.match) {
    case "exact":
      return sql<SqlBool>`(tags @> ${wanted} and tags <@ ${wanted})`;
    case "any_strict":
      return tags.length === 0 ? sql<SqlBool>`true` : sql<SqlBool>`(tags && ${wanted})`;
    case "all_strict":
      return tags.length === 0
        ? sql<SqlBool>`true`
        : sql<SqlBool>`(cardinality(tags) > 0 and tags @> ${wanted})`;
    case "all":
      return tags.length === 0
        ? sql<SqlBool>`true`
        : sql<SqlBool>`(cardinality(tags) = 0 or tags @> ${wanted})`;
    default:
      return tags.length === 0
        ? sql<SqlBool>`true`
        : sql<SqlBool>`(cardinality(tags) = 0 or tags && ${wanted})`;
  }
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

/** Lowercase words and word pairs of the query, matched against stored (lowercased) entity names. */
function queryEntityKeys(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const keys = new Set<string>(extractEntities(query));
  words.forEach((word, i) => {
    if (word.length > 1) keys.add(word);
    const next = words[i + 1];
    if (next) keys.add(`${word} ${next}`);
  });
  return [...keys];
}

function orTsQuery(query: string): string | undefined {
  const words = (query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => word.length > 1);
  return words.length === 0 ? undefined : words.join(" | ");
}

export interface EngineProps {
  readonly db: Kysely<HindsightServerDB>;
  /** Time an async operation stays `processing` before its work runs (tests watch the states). */
  readonly processingDelayMs?: number;
  readonly now?: () => number;
}

/**
 * The memory behind the stand-in server: retain (replace / append per document), async operations on
 * one serial worker, four-arm recall fused by RRF, and a reflect that answers from recalled facts.
 */
export class HindsightMemoryEngine {
  private readonly db: Kysely<HindsightServerDB>;
  private readonly now: () => number;
  private worker: Promise<void> = Promise.resolve();
  private inFlight = 0;

  constructor(private readonly props: EngineProps) {
    this.db = props.db;
    this.now = props.now ?? Date.now;
  }

  // A unit's text never changes under its id (ids are fresh UUIDs), so its vector can be kept; rows
  // deleted by a replace simply stop being candidates. Bounded: the oldest entries go first.
  private readonly vectors = new Map<string, TrigramVector>();

  private vectorOf(id: string, text: string): TrigramVector {
    let vector = this.vectors.get(id);
    if (!vector) {
      vector = trigramVector(text);
      if (this.vectors.size >= VECTOR_CACHE_SIZE) {
        const oldest = this.vectors.keys().next().value;
        if (oldest !== undefined) this.vectors.delete(oldest);
      }
      this.vectors.set(id, vector);
    }
    return vector;
  }

  private gate: Promise<void> = Promise.resolve();
  private openGate: (() => void) | undefined;

  /** Holds queued operations in `pending` until {@link resume} (tests observe the states). */
  pause(): void {
    if (this.openGate) return;
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  resume(): void {
    this.openGate?.();
    this.openGate = undefined;
  }

  /** Resolves when every async operation submitted so far has finished. */
  async idle(): Promise<void> {
    while (this.inFlight > 0) await this.worker;
  }

  private async ensureBank(db: Kysely<HindsightServerDB>, bankId: string): Promise<void> {
    await db
      .insertInto("hindsight_banks")
      .values({ bank_id: bankId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** Runs a retain now (synchronous API call). */
  async retain(bankId: string, request: RetainRequest): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await this.ensureBank(trx, bankId);
      for (const item of request.items) await this.retainItem(trx, bankId, item, request.documentTags);
    });
  }

  /** Queues a retain as an async operation and returns its id at once. */
  async submitRetain(bankId: string, request: RetainRequest): Promise<string> {
    const id = request.operationId?.toLowerCase() ?? randomUUID();
    await this.ensureBank(this.db, bankId);
    const inserted = await this.db
      .insertInto("hindsight_operations")
      .values({ id, bank_id: bankId, status: "pending", operation_type: "retain", error_message: null })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) {
      // A resubmission with the same operation_id creates no new work; another bank's id is a conflict.
      const existing = await this.db
        .selectFrom("hindsight_operations")
        .select("bank_id")
        .where("id", "=", id)
        .executeTakeFirst();
      if (existing?.bank_id !== bankId) {
        throw new HttpError(409, `operation_id ${id} belongs to a different operation`);
      }
      return id;
    }
    this.inFlight++;
    this.worker = this.worker.then(async () => {
      try {
        await this.gate;
        await this.setStatus(id, "processing");
        if (this.props.processingDelayMs)
          await new Promise((r) => setTimeout(r, this.props.processingDelayMs));
        await this.retain(bankId, request);
        await this.setStatus(id, "completed");
      } catch (error) {
        await this.setStatus(id, "failed", error instanceof Error ? error.message : String(error)).catch(
          () => {},
        );
      } finally {
        this.inFlight--;
      }
    });
    return id;
  }

  private async setStatus(id: string, status: string, errorMessage?: string): Promise<void> {
    const at = new Date(this.now());
    await this.db
      .updateTable("hindsight_operations")
      .set({
        status,
        updated_at: at,
        ...(status === "completed" || status === "failed" ? { completed_at: at } : {}),
        ...(errorMessage ? { error_message: errorMessage } : {}),
      })
      .where("id", "=", id)
      .execute();
  }

  /** `OperationStatusResponse`; an unknown id is `not_found` (HTTP 200), as the real server answers. */
  async operationStatus(bankId: string, operationId: string): Promise<Record<string, unknown>> {
    const row = await this.db
      .selectFrom("hindsight_operations")
      .selectAll()
      .where("id", "=", operationId)
      .where("bank_id", "=", bankId)
      .executeTakeFirst();
    if (!row) return { operation_id: operationId, status: "not_found" };
    return {
      operation_id: row.id,
      status: row.status,
      operation_type: row.operation_type,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      completed_at: iso(row.completed_at),
      error_message: row.error_message,
    };
  }

  private async retainItem(
    trx: Kysely<HindsightServerDB>,
    bankId: string,
    item: RetainItem,
    documentTags: readonly string[],
  ): Promise<void> {
    const documentId = item.documentId ?? randomUUID();
    const nowIso = new Date(this.now()).toISOString();
    const existing = await trx
      .selectFrom("hindsight_documents")
      .select("text")
      .where("bank_id", "=", bankId)
      .where("document_id", "=", documentId)
      .forUpdate()
      .executeTakeFirst();
    const append = item.updateMode === "append" && existing !== undefined;
    if (!append) {
      // replace: the document's old units go; its text is the new content alone.
      await trx
        .deleteFrom("hindsight_units")
        .where("bank_id", "=", bankId)
        .where("document_id", "=", documentId)
        .execute();
    }
    const text = append ? `${existing.text}\n${item.content}` : item.content;
    await trx
      .insertInto("hindsight_documents")
      .values({ bank_id: bankId, document_id: documentId, text, updated_at: nowIso })
      .onConflict((oc) => oc.columns(["bank_id", "document_id"]).doUpdateSet({ text, updated_at: nowIso }))
      .execute();
    // Append extracts only the new content: old units stay as they were.
    const tags = [...new Set([...documentTags, ...item.tags])];
    const supplied = item.entities.map((name) => name.toLowerCase());
    const metadata = item.metadata ? JSON.stringify(item.metadata) : null;
    for (const fact of extractFacts(item.content, item.timestamp ?? nowIso)) {
      const entities = [...new Set([...fact.entities, ...supplied])];
      const rawId = randomUUID();
      const common = {
        bank_id: bankId,
        document_id: documentId,
        text: fact.text,
        context: item.context ?? null,
        metadata,
        mentioned_at: fact.mentionedAt ?? nowIso,
        occurred_start: fact.occurredStart ?? null,
        occurred_end: fact.occurredEnd ?? null,
      };
      await sql`
        insert into hindsight_units
          (id, bank_id, document_id, text, fact_type, context, metadata, mentioned_at, occurred_start, occurred_end,
           tags, entities, source_fact_ids)
        values
          (${rawId}, ${common.bank_id}, ${common.document_id}, ${common.text}, ${fact.factType}, ${common.context},
           ${common.metadata}::jsonb, ${common.mentioned_at}, ${common.occurred_start}, ${common.occurred_end},
           ${textArray(tags)}, ${textArray(entities)}, null),
          (${randomUUID()}, ${common.bank_id}, ${common.document_id}, ${common.text}, 'observation', ${common.context},
           ${common.metadata}::jsonb, ${common.mentioned_at}, ${common.occurred_start}, ${common.occurred_end},
           ${textArray(tags)}, ${textArray(entities)}, ${textArray([rawId])})
      `.execute(trx);
    }
  }

  private filters(
    bankId: string,
    types: readonly string[] | undefined,
    tagFilter: TagFilter,
  ): Expression<SqlBool>[] {
    const known = types?.filter((type) => (FACT_TYPES as readonly string[]).includes(type));
    return [
      sql<SqlBool>`bank_id = ${bankId}`,
      ...(known === undefined ? [] : [sql<SqlBool>`fact_type = any(${textArray(known)})`]),
      tagPredicate(tagFilter),
    ];
  }

  /** Recall: four ranked arms over the filtered units, fused by RRF, cut to `max_tokens`. */
  async recall(bankId: string, request: RecallRequest): Promise<RecallResultBody[]> {
    const where = sql.join(this.filters(bankId, request.types, request.tagFilter), sql` and `);
    const limit = ARM_LIMIT[request.budget];
    const db = this.db;

    // Semantic arm: trigram cosine over every candidate's text.
    const candidates = await sql<{
      id: string;
      text: string;
    }>`select id, text from hindsight_units where ${where}`.execute(db);
    if (candidates.rows.length === 0) return [];
    const queryVector = trigramVector(request.query);
    const semanticScores = new Map<string, number>();
    for (const row of candidates.rows) {
      const score = trigramCosine(queryVector, this.vectorOf(row.id, row.text));
      if (score > 0.05) semanticScores.set(row.id, score);
    }
    const semantic = [...semanticScores.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([id]) => id);

    // Keyword arm: Postgres full text, OR over the query's words, ranked by ts_rank_cd.
    const keywordScores = new Map<string, number>();
    const tsQuery = orTsQuery(request.query);
    if (tsQuery) {
      const rows = await sql<{ id: string; rank: number }>`
        select id, ts_rank_cd(search, to_tsquery('english', ${tsQuery}))::float8 as rank
        from hindsight_units
        where ${where} and search @@ to_tsquery('english', ${tsQuery})
        order by rank desc, seq asc limit ${limit}`.execute(db);
      for (const row of rows.rows) keywordScores.set(row.id, Number(row.rank));
    }
    const keyword = [...keywordScores.keys()];

    // Graph arm: units sharing entities with the query, most shared first.
    const entityKeys = queryEntityKeys(request.query);
    const graph =
      entityKeys.length === 0
        ? []
        : (
            await sql<{ id: string }>`
              select id from hindsight_units
              where ${where} and entities && ${textArray(entityKeys)}
              order by cardinality(array(select unnest(entities) intersect select unnest(${textArray(entityKeys)}))) desc, seq desc
              limit ${limit}`.execute(db)
          ).rows.map((row) => row.id);

    // Temporal arm: units dated inside the window, closest to its middle first.
    const anchor = request.queryTimestamp ? Date.parse(request.queryTimestamp) : this.now();
    const window: TimeWindow | undefined = request.temporalWindow
      ? { start: Date.parse(request.temporalWindow.start), end: Date.parse(request.temporalWindow.end) }
      : temporalWindowOf(request.query, anchor);
    let temporal: string[] = [];
    if (window && !Number.isNaN(window.start) && !Number.isNaN(window.end)) {
      const start = new Date(window.start).toISOString();
      const end = new Date(window.end).toISOString();
      const middle = new Date((window.start + window.end) / 2).toISOString();
      temporal = (
        await sql<{ id: string }>`
          select id from hindsight_units
          where ${where} and coalesce(occurred_start, mentioned_at) between ${start}::timestamptz and ${end}::timestamptz
          order by abs(extract(epoch from coalesce(occurred_start, mentioned_at) - ${middle}::timestamptz)) asc, seq desc
          limit ${limit}`.execute(db)
      ).rows.map((row) => row.id);
    }

    const fused = reciprocalRankFusion([semantic, keyword, graph, temporal]).slice(0, limit);
    if (fused.length === 0) return [];
    const rows = await db
      .selectFrom("hindsight_units")
      .selectAll()
      .where(
        "id",
        "in",
        fused.map((entry) => entry.id),
      )
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    const results: RecallResultBody[] = [];
    // Every raw fact has an observation with the same text (what consolidation would make of it): a
    // fact is returned once, as whichever of the two ranked first.
    const returned = new Set<string>();
    let tokens = 0;
    for (const { id, score } of fused) {
      const row = byId.get(id);
      if (!row) continue;
      const sameFact = [row.id, ...(row.source_fact_ids ?? [])];
      if (sameFact.some((factId) => returned.has(factId))) continue;
      tokens += estimateTokens(row.text);
      if (tokens > request.maxTokens) break;
      for (const factId of sameFact) returned.add(factId);
      results.push({
        id: row.id,
        text: row.text,
        type: row.fact_type,
        entities: row.entities.length > 0 ? row.entities : null,
        context: row.context,
        occurred_start: iso(row.occurred_start),
        occurred_end: iso(row.occurred_end),
        mentioned_at: iso(row.mentioned_at),
        document_id: row.document_id,
        metadata: row.metadata,
        chunk_id: null,
        tags: row.tags,
        source_fact_ids: row.source_fact_ids,
        scores: {
          final: score,
          reranker: null,
          semantic: semanticScores.get(id) ?? null,
          keyword: keywordScores.get(id) ?? null,
        },
      });
    }
    return results;
  }

  /** Reflect: recall, then answer with the facts found (no model: the answer lists them). */
  async reflect(bankId: string, request: ReflectRequest): Promise<Record<string, unknown>> {
    const facts = (
      await this.recall(bankId, {
        query: request.query,
        types: request.types,
        budget: request.budget,
        maxTokens: request.maxTokens,
        queryTimestamp: undefined,
        temporalWindow: undefined,
        tagFilter: request.tagFilter,
      })
    ).slice(0, 10);
    const text =
      facts.length === 0
        ? "I don't have any memories relevant to that."
        : `Based on what I remember:\n${facts.map((fact) => `- ${fact.text}`).join("\n")}`;
    return {
      text,
      ...(request.includeFacts
        ? {
            based_on: {
              memories: facts.map((fact) => ({
                id: fact.id,
                text: fact.text,
                type: fact.type,
                context: fact.context,
                occurred_start: fact.occurred_start,
                occurred_end: fact.occurred_end,
              })),
              mental_models: [],
              directives: [],
            },
          }
        : {}),
      structured_output: null,
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0, cached_tokens: 0, thoughts_tokens: 0 },
    };
  }
}
