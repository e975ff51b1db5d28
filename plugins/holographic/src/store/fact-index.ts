import { PhaseAccumulator } from "../hrr/phase-accumulator.js";
import type { PhaseVector } from "../hrr/phase-vector.js";
import { maxSimilarityAt, similarityAt } from "../hrr/similarity.js";
import { tokenSet } from "../retrieval/tokenize.js";
import { FullTextIndex } from "./full-text-index.js";
import type { Fact } from "./types.js";

/** The in-memory state of one fact. Mutable; never handed to callers (see {@link toFact}). */
export interface FactRecord {
  readonly id: number;
  content: string;
  category: string;
  tags: string;
  trust: number;
  retrievalCount: number;
  helpfulCount: number;
  createdAt: Date;
  updatedAt: Date;
  /** Offset of the vector in {@link FactIndex.vectors}, in codes. */
  offset: number;
  /** Interned ids of the content and tag tokens, strictly ascending (for Jaccard by merge). */
  tokens: Int32Array;
  /** Linked entity ids, strictly ascending. */
  entityIds: number[];
}

export interface IndexedEntity {
  readonly id: number;
  name: string;
  readonly key: string;
  readonly aliases: string[];
  /** Ids of the facts linked to this entity. */
  readonly facts: Set<number>;
}

/**
 * Everything retrieval reads, in process: fact records, a BM25 full-text index, all vectors packed into one growable
 * `Uint16Array` (slot `s` at `s·dim`), an inverted index entity → fact ids, name/alias keys → entity,
 * content → fact id for dedup, interned token ids for Jaccard, and one incremental accumulator per
 * category bank. The database stays the source of truth; the store writes it first and applies the
 * same change here after commit.
 */
export class FactIndex {
  readonly dim: number;
  vectors: Uint16Array;
  private capacity: number;
  private nextSlot = 0;
  private readonly freeSlots: number[] = [];

  readonly facts = new Map<number, FactRecord>();
  readonly byContent = new Map<string, number>();
  readonly entities = new Map<number, IndexedEntity>();
  /** Entity keys and alias keys → entity id. */
  readonly entityByKey = new Map<string, number>();
  readonly banks = new Map<string, PhaseAccumulator>();
  readonly fullText = new FullTextIndex();
  private readonly tokenIds = new Map<string, number>();
  private readonly scratchTokens = new Set<string>();

  /**
   * `initialCapacity` facts' vectors are allocated up front (2·dim bytes each) and the array doubles as
   * it fills. Small by default: a store serves one memory scope, and most scopes (one person's facts)
   * stay small, while a process keeps hundreds of them open.
   */
  constructor(dim: number, initialCapacity = 16) {
    this.dim = dim;
    this.capacity = Math.max(1, initialCapacity);
    this.vectors = new Uint16Array(this.capacity * dim);
  }

  get size(): number {
    return this.facts.size;
  }

  /** The vector of a fact as a view into the packed array (valid until the next insert). */
  vectorOf(record: FactRecord): PhaseVector {
    return this.vectors.subarray(record.offset, record.offset + this.dim);
  }

  similarity(record: FactRecord, key: PhaseVector): number {
    return similarityAt(this.vectors, record.offset, key, this.dim);
  }

  /** The larger similarity of the fact to `a` or `b`, in one pass over its vector. */
  maxSimilarity(record: FactRecord, a: PhaseVector, b: PhaseVector): number {
    return maxSimilarityAt(this.vectors, record.offset, a, b, this.dim);
  }

  // ---- tokens -------------------------------------------------------------------------------------

  /** Sorted interned ids of the Jaccard tokens of `content` and `tags`; interns new tokens. */
  internTokens(content: string, tags: string): Int32Array {
    const set = this.scratchTokens;
    set.clear();
    tokenSet(content, set);
    tokenSet(tags, set);
    const ids = new Int32Array(set.size);
    let i = 0;
    for (const token of set) {
      let id = this.tokenIds.get(token);
      if (id === undefined) {
        id = this.tokenIds.size + 1;
        this.tokenIds.set(token, id);
      }
      ids[i++] = id;
    }
    return ids.sort();
  }

  /**
   * Sorted ids of a query's tokens without interning: a token no fact has gets a unique negative id,
   * so it still counts in the union but matches nothing.
   */
  queryTokens(query: string): Int32Array {
    const set = this.scratchTokens;
    set.clear();
    tokenSet(query, set);
    const ids = new Int32Array(set.size);
    let i = 0;
    let unknown = 0;
    for (const token of set) ids[i++] = this.tokenIds.get(token) ?? --unknown;
    return ids.sort();
  }

  // ---- facts --------------------------------------------------------------------------------------

  private allocateSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.nextSlot === this.capacity) {
      this.capacity *= 2;
      const grown = new Uint16Array(this.capacity * this.dim);
      grown.set(this.vectors);
      this.vectors = grown;
    }
    return this.nextSlot++;
  }

  /**
   * Adds a fact. `updateBank` false leaves the category bank alone, for a caller that already computed
   * the bank after this change (see {@link setBank}).
   */
  insert(record: Omit<FactRecord, "offset" | "tokens">, vector: PhaseVector, updateBank = true): FactRecord {
    const offset = this.allocateSlot() * this.dim;
    this.vectors.set(vector, offset);
    const full: FactRecord = { ...record, offset, tokens: this.internTokens(record.content, record.tags) };
    this.facts.set(full.id, full);
    this.byContent.set(full.content, full.id);
    for (const entityId of full.entityIds) this.entities.get(entityId)?.facts.add(full.id);
    if (updateBank) this.bank(full.category).add(vector);
    this.fullText.add(full.id, `${full.content} ${full.tags}`);
    return full;
  }

  remove(id: number): FactRecord | undefined {
    const record = this.facts.get(id);
    if (!record) return undefined;
    this.bank(record.category).remove(this.vectorOf(record));
    if (this.banks.get(record.category)?.count === 0) this.banks.delete(record.category);
    for (const entityId of record.entityIds) this.entities.get(entityId)?.facts.delete(id);
    this.fullText.remove(id, `${record.content} ${record.tags}`);
    this.facts.delete(id);
    if (this.byContent.get(record.content) === id) this.byContent.delete(record.content);
    this.freeSlots.push(record.offset / this.dim);
    return record;
  }

  /** Replaces a category's bank accumulator (dropping it when empty). */
  setBank(category: string, bank: PhaseAccumulator): void {
    if (bank.count <= 0) this.banks.delete(category);
    else this.banks.set(category, bank);
  }

  bank(category: string): PhaseAccumulator {
    let bank = this.banks.get(category);
    if (!bank) {
      bank = new PhaseAccumulator(this.dim);
      this.banks.set(category, bank);
    }
    return bank;
  }

  // ---- entities -----------------------------------------------------------------------------------

  addEntity(id: number, name: string, key: string): IndexedEntity {
    const existing = this.entities.get(id);
    if (existing) return existing;
    const entity: IndexedEntity = { id, name, key, aliases: [], facts: new Set() };
    this.entities.set(id, entity);
    this.entityByKey.set(key, id);
    return entity;
  }

  addAlias(entityId: number, alias: string, aliasKey: string): void {
    const entity = this.entities.get(entityId);
    if (!entity || this.entityByKey.has(aliasKey)) return;
    entity.aliases.push(alias);
    this.entityByKey.set(aliasKey, entityId);
  }

  /** Entity names of a record, canonical spelling, in id order. */
  entityNames(record: FactRecord): string[] {
    const names: string[] = [];
    for (const id of record.entityIds) {
      const entity = this.entities.get(id);
      if (entity) names.push(entity.name);
    }
    return names;
  }

  toFact(record: FactRecord): Fact {
    return {
      id: record.id,
      content: record.content,
      category: record.category,
      tags: record.tags,
      trust: record.trust,
      retrievalCount: record.retrievalCount,
      helpfulCount: record.helpfulCount,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      entities: this.entityNames(record),
    };
  }
}
