import type { TranscriptStore } from "@engram/core";

/** A messaging (gateway) session as the sidebar lists it. */
export interface MessagingSessionSummary {
  readonly sessionId: string;
  readonly sessionKey: string | null;
  readonly platform: string;
  readonly chatType: string | null;
  readonly title: string;
  readonly messageCount: number;
  readonly updatedAt: number;
  readonly ended: boolean;
}

/**
 * The gateway's sessions, read from the shared database, and a change feed over them: the list's
 * signature (ids, counts, update times) is checked every `intervalMs`, and listeners hear about each
 * session that changed. Works the same on PostgreSQL and PGlite, across processes.
 */
export class MessagingFeed {
  readonly #transcripts: TranscriptStore;
  readonly #listeners = new Set<(sessionId: string) => void>();
  #known = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(transcripts: TranscriptStore) {
    this.#transcripts = transcripts;
  }

  async list(limit = 200): Promise<MessagingSessionSummary[]> {
    const items = await this.#transcripts.listSessions({ scope: {}, limit: Math.min(limit, 500) });
    return items
      .filter((item) => item.session.source !== "web" && item.session.sessionKey !== null)
      .map(({ session, firstUserMessage }) => ({
        sessionId: session.id,
        sessionKey: session.sessionKey,
        platform: session.source,
        chatType: session.chatType,
        title: session.title ?? firstUserMessage ?? "Untitled",
        messageCount: session.messageCount,
        updatedAt: session.updatedAt,
        ended: session.endedAt !== null,
      }));
  }

  subscribe(listener: (sessionId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#polling ??= this.poll()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.#polling = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }

  /** One check: tells listeners about every session that is new or changed since the last one. */
  async poll(): Promise<string[]> {
    const current = new Map<string, string>();
    for (const s of await this.list())
      current.set(s.sessionId, `${s.messageCount}:${s.updatedAt}:${s.ended}`);
    const changed = [...current].filter(([id, sig]) => this.#known.get(id) !== sig).map(([id]) => id);
    const first = this.#known.size === 0 && changed.length === current.size;
    this.#known = current;
    if (!first || this.#listeners.size > 0) for (const id of changed) for (const l of this.#listeners) l(id);
    return changed;
  }
}
