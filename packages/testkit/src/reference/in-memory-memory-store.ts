/** What an entry records: a mirrored turn, a fact extracted at session end, or a note added by a tool. */
export type MemoryEntryKind = "turn" | "fact" | "note";

/** One stored memory. Plain data; the store hands out copies. */
export interface MemoryEntry {
  readonly id: number;
  /** The session the entry was written under (`undefined` for session-less writes). */
  readonly sessionId: string | undefined;
  readonly kind: MemoryEntryKind;
  readonly text: string;
  readonly tags: readonly string[];
  /** Epoch ms, from the provider's clock. */
  readonly createdAt: number;
}

export interface NewMemoryEntry {
  readonly sessionId: string | undefined;
  readonly kind: MemoryEntryKind;
  readonly text: string;
  readonly tags?: readonly string[];
  readonly createdAt: number;
}

export interface MemorySearchProps {
  /** Most entries returned (default 5). */
  readonly limit?: number;
  /** Only entries written under this session. */
  readonly sessionId?: string;
}

// Words too common to say anything about relevance.
const STOP_WORDS = new Set([
  "the",
  "and",
  "for",
  "that",
  "this",
  "with",
  "you",
  "are",
  "was",
  "what",
  "about",
]);

/** Lower-cased words of three or more letters or digits, without stop words. */
export function keywords(text: string): Set<string> {
  const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u);
  return new Set(words.filter((w) => w.length >= 3 && !STOP_WORDS.has(w)));
}

/**
 * The backing of {@link InMemoryMemoryProvider}: an append-only list of entries with naive keyword
 * recall. Kept apart from the provider so several providers (one per session) can share it, as they
 * would share a database, and so tests can inspect what was written where.
 */
export class InMemoryMemoryStore {
  readonly #entries: MemoryEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /**
   * Appends an entry. With `unique`, an entry with the same session, kind and text is returned
   * instead of adding a copy, which makes repeated extraction idempotent.
   */
  add(input: NewMemoryEntry, props: { unique?: boolean } = {}): { entry: MemoryEntry; created: boolean } {
    if (props.unique === true) {
      const existing = this.#entries.find(
        (e) => e.sessionId === input.sessionId && e.kind === input.kind && e.text === input.text,
      );
      if (existing) return { entry: { ...existing }, created: false };
    }
    const entry: MemoryEntry = Object.freeze({
      id: this.#entries.length + 1,
      sessionId: input.sessionId,
      kind: input.kind,
      text: input.text,
      tags: Object.freeze([...(input.tags ?? [])]),
      createdAt: input.createdAt,
    });
    this.#entries.push(entry);
    return { entry: { ...entry }, created: true };
  }

  /** Every entry in write order, optionally only one session's or one kind's. */
  entries(filter: { sessionId?: string; kind?: MemoryEntryKind } = {}): MemoryEntry[] {
    return this.#entries
      .filter(
        (e) =>
          (filter.sessionId === undefined || e.sessionId === filter.sessionId) &&
          (filter.kind === undefined || e.kind === filter.kind),
      )
      .map((e) => ({ ...e }));
  }

  /**
   * Entries sharing the most keywords with `query`, best first (newest first among equals). Entries
   * sharing none are never returned.
   */
  search(query: string, props: MemorySearchProps = {}): MemoryEntry[] {
    const wanted = keywords(query);
    if (wanted.size === 0) return [];
    const scored: { entry: MemoryEntry; score: number }[] = [];
    for (const entry of this.#entries) {
      if (props.sessionId !== undefined && entry.sessionId !== props.sessionId) continue;
      const have = keywords(`${entry.text} ${entry.tags.join(" ")}`);
      let score = 0;
      for (const word of wanted) if (have.has(word)) score += 1;
      if (score > 0) scored.push({ entry, score });
    }
    scored.sort((a, b) => b.score - a.score || b.entry.id - a.entry.id);
    return scored.slice(0, props.limit ?? 5).map(({ entry }) => ({ ...entry }));
  }
}
