/**
 * Transcript store port: sessions (one conversation each) and their ordered messages, the canonical
 * record of what was said (seed 004 `state.db`). Implemented by `@engram/store`'s
 * `PostgresTranscriptStore`; every implementation must pass the store conformance suite.
 *
 * Times are epoch milliseconds. JSON-valued fields (`parts`, `toolCalls`, ...) hold anything
 * `JSON.stringify` round-trips. Ids are validated with `assertSafeId` at this boundary.
 */

/** DI token of the host's `TranscriptStore` (`container.register<TranscriptStore>(TRANSCRIPT_STORE, ...)`). */
export const TRANSCRIPT_STORE: unique symbol = Symbol.for("engram.core.TranscriptStore");

/** End reason written when a session is continued in a child after context compression. */
export const COMPRESSION_END_REASON = "compression";

/** Default cap on one message's stored size (content plus serialised JSON fields), in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export type TranscriptRole = "system" | "user" | "assistant" | "tool";

export const TRANSCRIPT_ROLES: readonly TranscriptRole[] = ["system", "user", "assistant", "tool"];

/** Where a session's messages come from and whom the gateway routes them to. */
export interface TranscriptPeer {
  /** Platform or origin (`telegram`, `web`, `cli`, ...). */
  readonly source: string;
  readonly userId?: string | null;
  readonly sessionKey?: string | null;
  readonly chatId?: string | null;
  readonly chatType?: string | null;
  readonly threadId?: string | null;
}

export interface NewTranscriptSession extends TranscriptPeer {
  readonly id: string;
  readonly title?: string | null;
  readonly model?: string | null;
  readonly parentSessionId?: string | null;
  readonly projectId?: string | null;
  readonly profile?: string | null;
  /** Defaults to the store's clock. */
  readonly startedAt?: number;
}

export interface TranscriptSession {
  readonly id: string;
  readonly source: string;
  readonly userId: string | null;
  readonly sessionKey: string | null;
  readonly chatId: string | null;
  readonly chatType: string | null;
  readonly threadId: string | null;
  readonly title: string | null;
  readonly model: string | null;
  readonly parentSessionId: string | null;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly endReason: string | null;
  readonly messageCount: number;
  readonly toolCallCount: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly pinned: boolean;
  readonly archived: boolean;
  readonly projectId: string | null;
  readonly profile: string | null;
  readonly updatedAt: number;
}

/** Token and cost usage a message adds to its session's counters. */
export interface TranscriptUsage {
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly costUsd?: number;
}

export interface NewTranscriptMessage {
  readonly role: TranscriptRole;
  readonly content?: string | null;
  readonly parts?: unknown;
  readonly toolName?: string | null;
  /** Tool calls the assistant made; when an array, its length is added to `toolCallCount`. */
  readonly toolCalls?: unknown;
  readonly toolResults?: unknown;
  readonly toolCallId?: string | null;
  readonly reasoning?: string | null;
  readonly reasoningDetails?: unknown;
  /**
   * Platform-side id (Telegram update id, client message id, ...), the dedupe key of redeliveries and
   * client retries. At most one message per session key carries it, over all of the key's sessions
   * (per session for a session without a key); see {@link TranscriptStore.appendMessage}.
   */
  readonly platformMessageId?: string | null;
  readonly observed?: boolean;
  /** Defaults to the store's clock. */
  readonly createdAt?: number;
  readonly usage?: TranscriptUsage;
}

export interface TranscriptMessage {
  /** Increases with every append; the order of the transcript. */
  readonly id: number;
  readonly sessionId: string;
  readonly role: TranscriptRole;
  readonly content: string | null;
  readonly parts: unknown;
  readonly toolName: string | null;
  readonly toolCalls: unknown;
  readonly toolResults: unknown;
  readonly toolCallId: string | null;
  readonly reasoning: string | null;
  readonly reasoningDetails: unknown;
  readonly platformMessageId: string | null;
  readonly observed: boolean;
  /** False once rewound (soft delete): hidden from prompts and search, kept for audit. */
  readonly active: boolean;
  readonly compacted: boolean;
  readonly createdAt: number;
}

export interface AppendTranscriptMessageResult {
  /** The new message's id; for a duplicate, the id the earlier message was stored under. */
  readonly messageId: number;
  /** True when a message with the same `platformMessageId` already existed; nothing was written. */
  readonly duplicate: boolean;
  /**
   * For a duplicate: the session holding the earlier message (this one, or another session of the
   * same session key).
   */
  readonly existingSessionId?: string;
  /**
   * The session's `messageCount` and `updatedAt` right after this append (absent for a duplicate): equal
   * to what `getSession` reads until the session changes again, so a caller can tell whether a
   * transcript it holds is still current without reading it back.
   */
  readonly session?: TranscriptSessionStamp;
}

/**
 * What a store knows of a platform message id delivered on a session key: where its message was
 * stored the first time, and the reply that followed it.
 */
export interface PlatformMessageRecord {
  readonly sessionKey: string;
  readonly platformMessageId: string;
  /** The session the message was stored in (the key may have moved on to another session since). */
  readonly sessionId: string;
  /** The id of the stored user message. */
  readonly messageId: number;
  /** When the store accepted it (epoch ms, the store's clock). */
  readonly receivedAt: number;
  /**
   * The answer to it: the first assistant message after it in its session and before that session's
   * next user message, rewound or not (it is what was answered). `null` while there is none: the
   * turn is still running, or it ended without a reply (stopped, failed, its process died).
   */
  readonly reply: TranscriptReply | null;
}

export interface TranscriptReply {
  readonly messageId: number;
  /** The reply's text (`content`, else its text parts). */
  readonly text: string;
  readonly createdAt: number;
}

/** The fields of a session row that change with every write to its transcript. */
export interface TranscriptSessionStamp {
  readonly messageCount: number;
  readonly updatedAt: number;
}

export interface EndTranscriptSessionResult {
  /** True when this call wrote the end; false when the session had already ended. */
  readonly ended: boolean;
  /** The reason that stands (this call's, or the earlier writer's). */
  readonly endReason: string;
}

export interface TranscriptRewindResult {
  /** Messages soft-deleted by this call. */
  readonly rewoundCount: number;
  readonly targetMessageId: number;
  /** Text of the user message rewound to (for putting back into the input box). */
  readonly targetText: string;
}

export interface TranscriptUserMessage {
  readonly id: number;
  readonly content: string;
  readonly createdAt: number;
}

/** Who may see what: listing and search never cross these bounds. Unset fields do not filter. */
export interface TranscriptScope {
  readonly source?: string;
  readonly userId?: string | null;
  readonly projectId?: string | null;
  /**
   * `true`: only sessions routed by a session key (the gateway's messaging sessions); `false`: only
   * sessions without one (web, CLI).
   */
  readonly routed?: boolean;
  /** Only the sessions of this gateway session key (one chat's, or one user's in a chat). */
  readonly sessionKey?: string;
}

export interface ListTranscriptSessionsOptions {
  readonly scope: TranscriptScope;
  readonly includeArchived?: boolean;
  /** Include ended sessions (default true). */
  readonly includeEnded?: boolean;
  /** Default 50, at most 500. */
  readonly limit?: number;
  readonly offset?: number;
  /** Length of the preview snippets in characters (default 120). */
  readonly previewChars?: number;
}

export interface TranscriptSessionListItem {
  readonly session: TranscriptSession;
  /** Start of the first active user message, or null. */
  readonly firstUserMessage: string | null;
  /** Start of the newest active message, or null. */
  readonly lastMessage: {
    readonly role: TranscriptRole;
    readonly snippet: string;
    readonly createdAt: number;
  } | null;
}

export interface SearchTranscriptOptions {
  /** Web-search syntax: words, "quoted phrases", -excluded, or. */
  readonly query: string;
  readonly scope: TranscriptScope;
  readonly sessionId?: string;
  /** Default 20, at most 200. */
  readonly limit?: number;
}

export interface TranscriptSearchHit {
  readonly messageId: number;
  readonly sessionId: string;
  readonly role: TranscriptRole;
  readonly snippet: string;
  readonly createdAt: number;
}

export type TranscriptSessionPatch = {
  readonly title?: string | null;
  readonly model?: string | null;
  readonly pinned?: boolean;
  readonly archived?: boolean;
  readonly projectId?: string | null;
  readonly profile?: string | null;
};

/**
 * Sessions and messages. Guarantees every implementation keeps:
 *
 * - Bad input (unsafe id, unknown role, message over the size limit, unknown session) throws a typed
 *   error (`INVALID_ID`, `INVALID_ARGUMENT`, `CONTENT_TOO_LARGE`, `SESSION_NOT_FOUND`) and writes nothing.
 * - Counters are exact under concurrency: N racing `appendMessage` calls add exactly N.
 * - `endSession` is first-writer-wins: a second end never overwrites the reason; only `reopenSession`
 *   clears it.
 * - `replaceMessages` is all or nothing.
 * - Deleted sessions vanish from session reads (get, list, count, search, peer recovery, lineage) and
 *   free their title; writes to them report `SESSION_NOT_FOUND`. Their messages stay readable by
 *   session id (audit) until `pruneEndedSessions` removes them.
 * - A `platformMessageId` is stored at most once per session key, over all of the key's sessions
 *   (a `/new` does not make a retry new), however many appends race, in one process or many; the
 *   database enforces it, not a read before the write. A session without a key dedupes per session.
 *   Only `appendMessage` delivers a message: the copies `replaceMessages` writes (a branch, a
 *   compressed transcript) are not deliveries and never make a later delivery a duplicate elsewhere.
 */
export interface TranscriptStore {
  /**
   * Creates the session, or, when the id exists, fills only its empty (null) columns from `input` and
   * returns the stored row. A title taken by another live session throws `CONFLICT`.
   */
  createSession(input: NewTranscriptSession): Promise<TranscriptSession>;
  getSession(sessionId: string): Promise<TranscriptSession | undefined>;
  /** Sets title/model/flags. A title taken by another live session throws `CONFLICT`. */
  updateSession(sessionId: string, patch: TranscriptSessionPatch): Promise<TranscriptSession>;
  /** Soft delete: hidden from reads, title freed; messages kept until pruned. */
  deleteSession(sessionId: string): Promise<void>;

  /** Ends the session unless it has ended already (first writer wins). */
  endSession(sessionId: string, reason: string): Promise<EndTranscriptSessionResult>;
  /** Clears end time and reason. Returns whether the session had been ended. */
  reopenSession(sessionId: string): Promise<boolean>;

  /**
   * Appends one message and bumps the session counters in the same transaction. A `platformMessageId`
   * already stored in this session, or (for a session with a session key) in any session of the same
   * key, returns the existing message with `duplicate: true` and `existingSessionId`, and changes
   * nothing. Of racing appends of one id to a key exactly one stores it.
   */
  appendMessage(sessionId: string, message: NewTranscriptMessage): Promise<AppendTranscriptMessageResult>;
  /** Messages in order; soft-deleted ones only with `includeInactive`. */
  getMessages(sessionId: string, options?: { includeInactive?: boolean }): Promise<TranscriptMessage[]>;
  /** Replaces the whole transcript (retry, compress): all or nothing. Returns the new message count. */
  replaceMessages(sessionId: string, messages: readonly NewTranscriptMessage[]): Promise<number>;
  /**
   * Soft-deletes the active user message `messageId` and every active message after it. Throws
   * `NOT_FOUND` when `messageId` is not an active user message of the session.
   */
  rewindToUserMessage(sessionId: string, messageId: number): Promise<TranscriptRewindResult>;
  /**
   * Reactivates the rewound tail: inactive, non-compacted messages after the newest active one (once
   * something new was appended after a rewind, nothing is restorable). Returns how many came back.
   */
  restoreRewound(sessionId: string): Promise<number>;
  /** Active user messages, newest first. */
  listRecentUserMessages(sessionId: string, limit: number): Promise<TranscriptUserMessage[]>;
  /** Whether a message of this session carries `platformMessageId` (copies included). */
  hasPlatformMessageId(sessionId: string, platformMessageId: string): Promise<boolean>;
  /**
   * Where `platformMessageId` was first delivered on `sessionKey` (in any of the key's sessions) and
   * the reply that followed it; `undefined` when the key never received it, or its session was pruned.
   */
  findPlatformMessage(
    sessionKey: string,
    platformMessageId: string,
  ): Promise<PlatformMessageRecord | undefined>;
  /** Flags active messages up to and including `throughMessageId` as compacted (summarised elsewhere). */
  markCompacted(sessionId: string, throughMessageId: number): Promise<number>;
  countMessages(sessionId: string, options?: { includeInactive?: boolean }): Promise<number>;

  /**
   * Ends `parentId` with reason {@link COMPRESSION_END_REASON} and creates the continuation `child`
   * (its peer columns default to the parent's), in one transaction. Throws `CONFLICT` when the parent
   * had already ended for another reason.
   */
  startCompressionContinuation(
    parentId: string,
    child: Omit<NewTranscriptSession, "source" | "parentSessionId"> & Partial<TranscriptPeer>,
  ): Promise<TranscriptSession>;
  /**
   * The newest compression continuation reachable from `sessionId` (itself when none), or `undefined`
   * for an unknown session. Cycle-safe: stops before an id repeats, and after a bounded number of hops.
   */
  getCompressionTip(sessionId: string): Promise<string | undefined>;

  /**
   * The peer's most recent live session if it may be resumed: open, or ended only for a recoverable
   * reason (`RECOVERABLE_END_REASONS`). `undefined` when the newest one ended for any other reason.
   */
  findLatestSessionForPeer(peer: TranscriptPeer): Promise<TranscriptSession | undefined>;
  /** Stores the routing columns given in `peer` on the session (unset fields are left alone). */
  recordPeer(sessionId: string, peer: TranscriptPeer): Promise<void>;

  /** Full-text search over active messages of live sessions inside `scope`, best match first. */
  searchMessages(options: SearchTranscriptOptions): Promise<TranscriptSearchHit[]>;
  /** Pinned first, then most recently updated; previews without loading message bodies. */
  listSessions(options: ListTranscriptSessionsOptions): Promise<TranscriptSessionListItem[]>;
  countSessions(scope: TranscriptScope, options?: { includeArchived?: boolean }): Promise<number>;
  /** `base` when free among live sessions, else `base #2`, `base #3`, ... */
  nextAvailableTitle(base: string): Promise<string>;
  /** Hard-deletes unpinned sessions that ended before `olderThan` (epoch ms), with their messages. */
  pruneEndedSessions(olderThan: number): Promise<number>;
}
