import {
  type AppendWebMessagesOptions,
  type AppendWebMessagesResult,
  assertSafeId,
  type ImportWebSessionOptions,
  InvalidArgumentError,
  type ListWebSessionsOptions,
  type NewTranscriptMessage,
  type NewWebProject,
  type NewWebSession,
  type TruncateWebMessagesOptions,
  type WebProject,
  type WebProjectPatch,
  type WebSession,
  type WebSessionPatch,
  type WebSessionStore,
  type WebSessionSummary,
} from "@engram/core";

export interface CachedWebSessionStoreProps {
  /**
   * Most sessions kept with their messages (default 64). Pinned sessions and sessions with a write in
   * flight are never evicted, so the cache may exceed this while they are held; it shrinks back as
   * they are released.
   */
  readonly maxEntries?: number;
  /**
   * Check each cached hit against the store's metadata (one primary-key read, no message bodies) and
   * reload when another process changed the session (default true). Turn off only when this process
   * is the sole writer of the sessions it caches.
   */
  readonly revalidate?: boolean;
}

interface CacheEntry {
  session: WebSession;
}

/** Releases a pin; calling it again does nothing. */
export type ReleasePin = () => void;

/**
 * An in-process LRU cache of opened sessions (metadata + messages) in front of any
 * {@link WebSessionStore}, so switching between recent conversations does not reload their
 * transcripts (seed 002's `SESSIONS` cache).
 *
 * What it guarantees:
 * - It only ever caches whole sessions read with `get` or extended by an append through it. A
 *   metadata-only read (`list`, `getSummary`) is never cached as if it were a session, so the seed-002
 *   wipe (a metadata-only copy later treated as the full transcript) cannot arise here; and writes go
 *   to the store as the store's append/metadata operations, never as "save this object".
 * - A session that is pinned (`pin`, e.g. for an active stream) or has a write in flight through this
 *   cache is never evicted.
 * - Listing and summaries always come from the store (they are already metadata-only and cheap).
 */
export class CachedWebSessionStore implements WebSessionStore {
  readonly #inner: WebSessionStore;
  readonly #maxEntries: number;
  readonly #revalidate: boolean;
  /** Insertion order is recency: a hit is deleted and re-inserted, so the first key is the LRU one. */
  readonly #entries = new Map<string, CacheEntry>();
  /** Pins and in-flight writes per session id; held ids are never evicted. Kept apart from entries so a
   * session can be pinned before it is first loaded. */
  readonly #holds = new Map<string, number>();

  constructor(inner: WebSessionStore, props: CachedWebSessionStoreProps = {}) {
    const maxEntries = props.maxEntries ?? 64;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new InvalidArgumentError("maxEntries", "must be a non-negative integer");
    }
    this.#inner = inner;
    this.#maxEntries = maxEntries;
    this.#revalidate = props.revalidate ?? true;
  }

  /** Sessions currently cached with their messages. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `sessionId` is cached with its messages (no recency change). */
  has(sessionId: string): boolean {
    return this.#entries.has(sessionId);
  }

  /** Whether `sessionId` is held by a pin or an in-flight write. */
  isPinned(sessionId: string): boolean {
    return (this.#holds.get(sessionId) ?? 0) > 0;
  }

  /**
   * Keeps `sessionId` from being evicted until the returned function is called (pins nest). Use it
   * for the lifetime of an active stream or any unsaved work on the session.
   */
  pin(sessionId: string): ReleasePin {
    assertSafeId("session id", sessionId);
    this.#hold(sessionId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(sessionId);
    };
  }

  #hold(sessionId: string): void {
    this.#holds.set(sessionId, (this.#holds.get(sessionId) ?? 0) + 1);
  }

  #release(sessionId: string): void {
    const held = (this.#holds.get(sessionId) ?? 0) - 1;
    if (held > 0) this.#holds.set(sessionId, held);
    else this.#holds.delete(sessionId);
    this.#trim();
  }

  /** Runs a write with the session held, so it cannot be evicted (and re-read stale) mid-write. */
  async #writing<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    this.#hold(sessionId);
    try {
      return await work();
    } finally {
      this.#release(sessionId);
    }
  }

  #put(session: WebSession): void {
    this.#entries.delete(session.id);
    this.#entries.set(session.id, { session });
    this.#trim();
  }

  /** Evicts least-recently-used entries that are not held until the cache fits. */
  #trim(): void {
    if (this.#entries.size <= this.#maxEntries) return;
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) return;
      if (!this.isPinned(id)) this.#entries.delete(id);
    }
  }

  async get(sessionId: string): Promise<WebSession | undefined> {
    assertSafeId("session id", sessionId);
    const cached = this.#entries.get(sessionId);
    if (cached && !this.#revalidate) {
      this.#put(cached.session);
      return cached.session;
    }
    if (cached) {
      const summary = await this.#inner.getSummary(sessionId);
      if (!summary) {
        this.#entries.delete(sessionId);
        return undefined;
      }
      const current = this.#entries.get(sessionId);
      if (
        current &&
        current.session.updatedAt === summary.updatedAt &&
        current.session.messages.length === summary.messageCount
      ) {
        const session = { ...summary, messages: current.session.messages };
        this.#put(session);
        return session;
      }
    }
    const session = await this.#inner.get(sessionId);
    if (!session) {
      this.#entries.delete(sessionId);
      return undefined;
    }
    this.#put(session);
    return session;
  }

  list(options?: ListWebSessionsOptions): Promise<WebSessionSummary[]> {
    return this.#inner.list(options);
  }

  getSummary(sessionId: string): Promise<WebSessionSummary | undefined> {
    return this.#inner.getSummary(sessionId);
  }

  create(input?: NewWebSession): Promise<WebSessionSummary> {
    return this.#inner.create(input);
  }

  async updateMetadata(sessionId: string, patch: WebSessionPatch): Promise<WebSessionSummary> {
    return this.#writing(sessionId, async () => {
      const summary = await this.#inner.updateMetadata(sessionId, patch);
      const cached = this.#entries.get(sessionId);
      if (cached) {
        // Metadata changes leave messages alone; the count check catches a concurrent writer.
        if (cached.session.messages.length === summary.messageCount) {
          cached.session = { ...summary, messages: cached.session.messages };
        } else {
          this.#entries.delete(sessionId);
        }
      }
      return summary;
    });
  }

  async delete(sessionId: string): Promise<void> {
    await this.#writing(sessionId, () => this.#inner.delete(sessionId));
    this.#entries.delete(sessionId);
  }

  async appendMessages(
    sessionId: string,
    messages: readonly NewTranscriptMessage[],
    options?: AppendWebMessagesOptions,
  ): Promise<AppendWebMessagesResult> {
    return this.#writing(sessionId, async () => {
      const result = await this.#inner.appendMessages(sessionId, messages, options);
      const cached = this.#entries.get(sessionId);
      if (cached) {
        const before = cached.session.messages.length;
        // Extend in place only when nothing else was appended in between; otherwise reload next time.
        if (before + result.appended.length === result.summary.messageCount) {
          cached.session = { ...result.summary, messages: [...cached.session.messages, ...result.appended] };
        } else {
          this.#entries.delete(sessionId);
        }
      }
      return result;
    });
  }

  async truncateMessages(sessionId: string, options: TruncateWebMessagesOptions): Promise<number> {
    return this.#writing(sessionId, async () => {
      try {
        return await this.#inner.truncateMessages(sessionId, options);
      } finally {
        // Destructive and rare: reload from the store rather than editing the cached copy.
        this.#entries.delete(sessionId);
      }
    });
  }

  importSession(sessionId: string, options?: ImportWebSessionOptions): Promise<WebSessionSummary> {
    return this.#inner.importSession(sessionId, options);
  }

  listProjects(): Promise<WebProject[]> {
    return this.#inner.listProjects();
  }

  createProject(input: NewWebProject): Promise<WebProject> {
    return this.#inner.createProject(input);
  }

  updateProject(projectId: string, patch: WebProjectPatch): Promise<WebProject> {
    return this.#inner.updateProject(projectId, patch);
  }

  async deleteProject(projectId: string): Promise<boolean> {
    const deleted = await this.#inner.deleteProject(projectId);
    for (const entry of this.#entries.values()) {
      if (entry.session.projectId === projectId) entry.session = { ...entry.session, projectId: null };
    }
    return deleted;
  }
}
