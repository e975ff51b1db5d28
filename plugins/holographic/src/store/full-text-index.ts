import { bm25Idf, bm25TermScore, fullTextTerms } from "../retrieval/full-text.js";

export interface FullTextHit {
  readonly id: number;
  /** BM25 score (unnormalised; only comparable within one query). */
  readonly score: number;
}

/**
 * An in-process inverted index (term → fact id → term frequency) scored with BM25. Candidate
 * generation for `search` runs here rather than in SQL: ranking every `tsvector` match costs
 * milliseconds per thousand matches in PGlite, while this touches only the postings of the query
 * terms and keeps the best `limit` in a bounded heap.
 */
export class FullTextIndex {
  private readonly postings = new Map<string, Map<number, number>>();
  private readonly lengths = new Map<number, number>();
  private totalLength = 0;
  // Per-query scratch, reused: scores keyed by fact id.
  private readonly scores = new Map<number, number>();

  get documentCount(): number {
    return this.lengths.size;
  }

  /** Indexes a document. A document already indexed must be removed first (with its old text). */
  add(id: number, text: string): void {
    if (this.lengths.has(id)) throw new Error(`document ${id} is already indexed; remove it first`);
    const terms = fullTextTerms(text);
    for (const term of terms) {
      let posting = this.postings.get(term);
      if (!posting) {
        posting = new Map();
        this.postings.set(term, posting);
      }
      posting.set(id, (posting.get(id) ?? 0) + 1);
    }
    this.lengths.set(id, terms.length);
    this.totalLength += terms.length;
  }

  /** Removes a document; `text` must be what it was added with. */
  remove(id: number, text: string): void {
    const length = this.lengths.get(id);
    if (length === undefined) return;
    for (const term of fullTextTerms(text)) {
      const posting = this.postings.get(term);
      if (!posting) continue;
      posting.delete(id);
      if (posting.size === 0) this.postings.delete(term);
    }
    this.lengths.delete(id);
    this.totalLength -= length;
  }

  /** The `limit` best documents for `query` that `accept` lets through, best first. */
  search(query: string, limit: number, accept: (id: number) => boolean): FullTextHit[] {
    const count = this.lengths.size;
    if (count === 0) return [];
    const averageLength = this.totalLength / count;
    const scores = this.scores;
    scores.clear();
    for (const term of new Set(fullTextTerms(query))) {
      const posting = this.postings.get(term);
      if (!posting) continue;
      const idf = bm25Idf(posting.size, count);
      for (const [id, tf] of posting) {
        const score = bm25TermScore(tf, idf, this.lengths.get(id)!, averageLength);
        scores.set(id, (scores.get(id) ?? 0) + score);
      }
    }
    const heap = new TopHeap(limit);
    for (const [id, score] of scores) if (heap.wouldAccept(score) && accept(id)) heap.push(id, score);
    scores.clear();
    return heap.drainDescending();
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
