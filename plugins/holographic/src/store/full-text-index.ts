import { bm25Idf, bm25TermScore, fullTextTerms } from "../retrieval/full-text.js";

export interface FullTextHit {
  readonly id: number;
  /** BM25 score (unnormalised; only comparable within one query). */
  readonly score: number;
}

/**
 * A term that occurs in more than this fraction of documents only boosts documents rarer query terms
 * already matched (once they matched at least `limit`), instead of pulling in every document it occurs
 * in: scoring a stopword-like term over a large store would cost more than the rest of the search.
 */
export const COMMON_TERM_FRACTION = 0.02;

/** One term's postings: document numbers and term frequencies, appended in document order. */
class PostingList {
  docs = new Int32Array(4);
  tfs = new Uint16Array(4);
  size = 0;
  /** Postings of live documents (the document frequency). */
  live = 0;

  push(doc: number, tf: number): void {
    if (this.size === this.docs.length) {
      const docs = new Int32Array(this.size * 2);
      docs.set(this.docs);
      this.docs = docs;
      const tfs = new Uint16Array(this.size * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.docs[this.size] = doc;
    this.tfs[this.size] = Math.min(tf, 0xffff);
    this.size++;
    this.live++;
  }
}

/**
 * An in-process inverted index scored with BM25, over dense document numbers and typed-array postings.
 * Candidate generation for `search` runs here rather than in SQL: ranking every `tsvector` match costs
 * milliseconds per thousand matches in PGlite, while this touches only the postings of the query terms,
 * accumulates into a reused dense score array and keeps the best `limit` in a bounded heap.
 *
 * Removal marks the document dead; its postings are skipped and dropped by a compaction once dead
 * documents make up a quarter of the numbering.
 */
export class FullTextIndex {
  private readonly lists = new Map<string, PostingList>();
  private readonly docOf = new Map<number, number>();
  private capacity = 1024;
  private ids = new Float64Array(this.capacity);
  private lengths = new Float32Array(this.capacity);
  private alive = new Uint8Array(this.capacity);
  private scores = new Float64Array(this.capacity);
  private touched = new Int32Array(this.capacity);
  private nextDoc = 0;
  private dead = 0;
  private totalLength = 0;
  private readonly termCounts = new Map<string, number>();

  get documentCount(): number {
    return this.docOf.size;
  }

  /** Indexes a document. A document already indexed must be removed first (with its old text). */
  add(id: number, text: string): void {
    if (this.docOf.has(id)) throw new Error(`document ${id} is already indexed; remove it first`);
    if (this.nextDoc === this.capacity) this.grow();
    const doc = this.nextDoc++;
    const counts = this.termCounts;
    counts.clear();
    const terms = fullTextTerms(text);
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, tf] of counts) {
      let list = this.lists.get(term);
      if (!list) {
        list = new PostingList();
        this.lists.set(term, list);
      }
      list.push(doc, tf);
    }
    this.docOf.set(id, doc);
    this.ids[doc] = id;
    this.lengths[doc] = terms.length;
    this.alive[doc] = 1;
    this.totalLength += terms.length;
  }

  /** Removes a document; `text` must be what it was added with (it names the postings to discount). */
  remove(id: number, text: string): void {
    const doc = this.docOf.get(id);
    if (doc === undefined) return;
    this.docOf.delete(id);
    this.alive[doc] = 0;
    this.totalLength -= this.lengths[doc]!;
    this.dead++;
    for (const term of new Set(fullTextTerms(text))) {
      const list = this.lists.get(term);
      if (list) list.live--;
    }
    if (this.dead > 256 && this.dead * 4 > this.nextDoc) this.compact();
  }

  /** The `limit` best documents for `query` that `accept` lets through, best first. */
  search(query: string, limit: number, accept: (id: number) => boolean): FullTextHit[] {
    const count = this.docOf.size;
    if (count === 0) return [];
    const averageLength = this.totalLength / count;
    const lists: PostingList[] = [];
    for (const term of new Set(fullTextTerms(query))) {
      const list = this.lists.get(term);
      if (list && list.live > 0) lists.push(list);
    }
    // Rarest first: their matches decide the candidates; common terms then mostly just boost them.
    lists.sort((a, b) => a.live - b.live);
    const { scores, touched, alive, lengths } = this;
    const commonThreshold = count * COMMON_TERM_FRACTION;
    let touchedCount = 0;
    for (const list of lists) {
      const idf = bm25Idf(list.live, count);
      const boostOnly = list.live > commonThreshold && touchedCount >= limit;
      const { docs, tfs, size } = list;
      for (let k = 0; k < size; k++) {
        const doc = docs[k]!;
        if (alive[doc] === 0) continue;
        if (scores[doc] === 0) {
          if (boostOnly) continue;
          touched[touchedCount++] = doc;
        }
        scores[doc]! += bm25TermScore(tfs[k]!, idf, lengths[doc]!, averageLength);
      }
    }
    const heap = new TopHeap(limit);
    for (let k = 0; k < touchedCount; k++) {
      const doc = touched[k]!;
      const score = scores[doc]!;
      scores[doc] = 0;
      if (heap.wouldAccept(score) && accept(this.ids[doc]!)) heap.push(this.ids[doc]!, score);
    }
    return heap.drainDescending();
  }

  private grow(): void {
    this.capacity *= 2;
    const ids = new Float64Array(this.capacity);
    ids.set(this.ids);
    this.ids = ids;
    const lengths = new Float32Array(this.capacity);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const alive = new Uint8Array(this.capacity);
    alive.set(this.alive);
    this.alive = alive;
    this.scores = new Float64Array(this.capacity);
    this.touched = new Int32Array(this.capacity);
  }

  /** Renumbers live documents densely and drops dead postings. */
  private compact(): void {
    const renumber = new Int32Array(this.nextDoc).fill(-1);
    let next = 0;
    for (let doc = 0; doc < this.nextDoc; doc++) {
      if (this.alive[doc] === 0) continue;
      renumber[doc] = next;
      this.ids[next] = this.ids[doc]!;
      this.lengths[next] = this.lengths[doc]!;
      this.alive[next] = 1;
      this.docOf.set(this.ids[next]!, next);
      next++;
    }
    this.alive.fill(0, next);
    for (const [term, list] of this.lists) {
      let kept = 0;
      for (let k = 0; k < list.size; k++) {
        const doc = renumber[list.docs[k]!]!;
        if (doc < 0) continue;
        list.docs[kept] = doc;
        list.tfs[kept] = list.tfs[k]!;
        kept++;
      }
      list.size = kept;
      list.live = kept;
      if (kept === 0) this.lists.delete(term);
    }
    this.nextDoc = next;
    this.dead = 0;
  }
}

/** A fixed-capacity min-heap keeping the `capacity` highest scores seen. */
class TopHeap {
  private readonly ids: Float64Array;
  private readonly scores: Float64Array;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.ids = new Float64Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  wouldAccept(score: number): boolean {
    return this.size < this.capacity || score > this.scores[0]!;
  }

  push(id: number, score: number): void {
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent]! <= score) break;
        this.ids[i] = this.ids[parent]!;
        this.scores[i] = this.scores[parent]!;
        i = parent;
      }
      this.ids[i] = id;
      this.scores[i] = score;
      return;
    }
    // Replace the minimum and sift down.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.scores[right]! < this.scores[left]! ? right : left;
      if (this.scores[child]! >= score) break;
      this.ids[i] = this.ids[child]!;
      this.scores[i] = this.scores[child]!;
      i = child;
    }
    this.ids[i] = id;
    this.scores[i] = score;
  }

  drainDescending(): FullTextHit[] {
    const hits: FullTextHit[] = [];
    for (let i = 0; i < this.size; i++) hits.push({ id: this.ids[i]!, score: this.scores[i]! });
    return hits.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}
