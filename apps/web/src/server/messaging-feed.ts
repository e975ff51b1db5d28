import type { RoutingEntry, RoutingIndex, TranscriptStore } from "@engram/core";

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
  readonly archived: boolean;
  readonly userId: string | null;
  readonly chatId: string | null;
  readonly threadId: string | null;
  /** The person's and the chat's display names, from the routing entry's origin when it has them. */
  readonly userName: string | null;
  readonly chatName: string | null;
}

/** Who and where a session is with, from its routing entry's origin (names the gateway was given). */
export function originNames(entry: RoutingEntry | undefined): {
  userName: string | null;
  chatName: string | null;
} {
  const origin = entry?.origin;
  return {
    userName: origin?.userName ?? null,
    chatName: origin?.chatName ?? entry?.displayName ?? null,
  };
}

/** Subscribes to transcript changes (session ids), e.g. `@engram/store`'s `listenForTranscriptChanges`. */
export type TranscriptChangeSource = (onChange: (sessionId: string) => void) => Promise<() => Promise<void>>;

/**
 * The gateway's sessions, read from the shared database, and a change feed over them. With a
 * {@link TranscriptChangeSource} (Postgres LISTEN/NOTIFY, or PGlite's in-process notifications) a
 * change reaches listeners as it is written; the list's signature (ids, counts, update times) is also
 * checked every `intervalMs`, as the fallback when notifications are unavailable or were missed.
 */
export class MessagingFeed {
  readonly #transcripts: TranscriptStore;
  readonly #routing: RoutingIndex | undefined;
  readonly #listeners = new Set<(sessionId: string) => void>();
  #known = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  /** With a routing index, sessions carry the person's and the chat's names from the routing origin. */
  constructor(transcripts: TranscriptStore, routing?: RoutingIndex) {
    this.#transcripts = transcripts;
    this.#routing = routing;
  }

  /** The person's and chat's names for a session key (nulls without a routing index or entry). */
  async namesFor(sessionKey: string | null): Promise<{ userName: string | null; chatName: string | null }> {
    if (!sessionKey || !this.#routing) return originNames(undefined);
    return originNames(await this.#routing.get(sessionKey).catch(() => undefined));
  }

  async list(limit = 200): Promise<MessagingSessionSummary[]> {
    // Routed by a session key: the gateway's sessions only, however many web sessions are newer.
    const items = await this.#transcripts.listSessions({
      scope: { routed: true },
      limit: Math.min(limit, 500),
    });
    const entries = new Map<string, RoutingEntry>();
    if (this.#routing) {
      for (const entry of await this.#routing.list({ limit: Math.min(limit, 500) }).catch(() => []))
        entries.set(entry.sessionKey, entry);
    }
    return items
      .filter((item) => item.session.source !== "web")
      .map(({ session, firstUserMessage }) => ({
        sessionId: session.id,
        sessionKey: session.sessionKey,
        platform: session.source,
        chatType: session.chatType,
        title: session.title ?? firstUserMessage ?? "Untitled",
        messageCount: session.messageCount,
        updatedAt: session.updatedAt,
        ended: session.endedAt !== null,
        archived: session.archived,
        userId: session.userId,
        chatId: session.chatId,
        threadId: session.threadId,
        ...originNames(session.sessionKey ? entries.get(session.sessionKey) : undefined),
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

  /** Pushes changes as they are written; non-web sessions only (a web session id is skipped). */
  async attach(source: TranscriptChangeSource): Promise<void> {
    this.#unlisten = await source((sessionId) => {
      void this.#transcripts.getSession(sessionId).then(
        (session) => {
          if (!session || session.source === "web" || session.sessionKey === null) return;
          for (const listener of this.#listeners) listener(sessionId);
        },
        () => undefined,
      );
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#unlisten?.();
    this.#unlisten = undefined;
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
