import { ConflictError, InvalidArgumentError, NotFoundError, SessionNotFoundError } from "../errors/index.js";
import { type Clock, systemClock } from "../gateway/clock.js";
import { isRecoverableSession } from "../gateway/end-reasons.js";
import { assertSafeId } from "../gateway/safe-id.js";
import { MAX_SESSION_KEY_LENGTH } from "../gateway/session-key.js";
import {
  type PreparedTranscriptMessage,
  prepareTranscriptMessage,
  transcriptMessageText,
} from "./transcript-message.js";
import {
  type AppendTranscriptMessageResult,
  COMPRESSION_END_REASON,
  DEFAULT_MAX_MESSAGE_BYTES,
  type EndTranscriptSessionResult,
  type ListTranscriptSessionsOptions,
  type NewTranscriptMessage,
  type NewTranscriptSession,
  type PlatformMessageRecord,
  type SearchTranscriptOptions,
  type TranscriptMessage,
  type TranscriptPeer,
  type TranscriptRewindResult,
  type TranscriptScope,
  type TranscriptSearchHit,
  type TranscriptSession,
  type TranscriptSessionListItem,
  type TranscriptSessionPatch,
  type TranscriptStore,
  type TranscriptUserMessage,
} from "./transcript-store.js";

export interface InMemoryTranscriptStoreProps {
  readonly clock?: Clock;
  readonly maxMessageBytes?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type SessionState = Mutable<TranscriptSession> & { deletedAt: number | null };
type MessageState = Mutable<TranscriptMessage>;
/** The first delivery of a platform message id on a session key. */
interface ReceiptState {
  readonly sessionId: string;
  readonly messageId: number;
  readonly receivedAt: number;
}

const MAX_LINEAGE_HOPS = 1000;
const MAX_TITLE_LENGTH = 200;

function assertText(argument: string, value: unknown, maxLength: number): asserts value is string {
  if (typeof value !== "string" || value.trim().length === 0 || value.length > maxLength) {
    throw new InvalidArgumentError(argument, `must be a non-empty string of at most ${maxLength} characters`);
  }
}

function assertMessageId(value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError("messageId", "must be a positive integer");
  }
}

function assertScope(scope: unknown): asserts scope is TranscriptScope {
  if (scope === null || typeof scope !== "object") {
    throw new InvalidArgumentError("scope", "is required (pass {} for everything)");
  }
}

function clampLimit(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError("limit", "must be a positive integer");
  return Math.min(value, max);
}

const parse = (json: string | null): unknown => (json === null ? null : JSON.parse(json));

// Like Postgres' 'simple' text-search configuration: lower-cased runs of letters and digits.
const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * The reference `TranscriptStore`: plain maps in one process, for tests and single-process tools. It
 * passes the same conformance suite as the Postgres store. Every method does its work without an
 * `await` in between, so JavaScript's run-to-completion gives the atomicity transactions give there.
 * Rows are copied in and out, so callers never share state with the store.
 */
export class InMemoryTranscriptStore implements TranscriptStore {
  readonly #clock: Clock;
  readonly #maxMessageBytes: number;
  readonly #sessions = new Map<string, SessionState>();
  readonly #messages = new Map<string, MessageState[]>();
  /** Session key -> platform message id -> its first delivery (the Postgres store's receipts table). */
  readonly #receipts = new Map<string, Map<string, ReceiptState>>();
  #nextMessageId = 1;

  constructor(props: InMemoryTranscriptStoreProps = {}) {
    this.#clock = props.clock ?? systemClock;
    this.#maxMessageBytes = props.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  #live(sessionId: string): SessionState | undefined {
    const session = this.#sessions.get(sessionId);
    return session && session.deletedAt === null ? session : undefined;
  }

  #require(sessionId: string): SessionState {
    const session = this.#live(sessionId);
    if (!session) throw new SessionNotFoundError(sessionId);
    return session;
  }

  #view(session: SessionState): TranscriptSession {
    const { deletedAt: _deleted, ...view } = session;
    return { ...view };
  }

  #titleTaken(title: string, exceptId?: string): boolean {
    for (const session of this.#sessions.values()) {
      if (session.deletedAt === null && session.title === title && session.id !== exceptId) return true;
    }
    return false;
  }

  #messagesOf(sessionId: string): MessageState[] {
    let list = this.#messages.get(sessionId);
    if (!list) {
      list = [];
      this.#messages.set(sessionId, list);
    }
    return list;
  }

  #toMessage(sessionId: string, prepared: PreparedTranscriptMessage): MessageState {
    return {
      id: this.#nextMessageId++,
      sessionId,
      role: prepared.role,
      content: prepared.content,
      parts: parse(prepared.parts),
      toolName: prepared.toolName,
      toolCalls: parse(prepared.toolCalls),
      toolResults: parse(prepared.toolResults),
      toolCallId: prepared.toolCallId,
      reasoning: prepared.reasoning,
      reasoningDetails: parse(prepared.reasoningDetails),
      platformMessageId: prepared.platformMessageId,
      observed: prepared.observed,
      active: true,
      compacted: false,
      createdAt: prepared.createdAt.getTime(),
    };
  }

  #recount(session: SessionState): void {
    const active = this.#messagesOf(session.id).filter((message) => message.active);
    session.messageCount = active.length;
    session.toolCallCount = active.reduce(
      (total, message) => total + (Array.isArray(message.toolCalls) ? message.toolCalls.length : 0),
      0,
    );
    session.updatedAt = this.#clock.now();
  }

  #inScope(session: SessionState, scope: TranscriptScope): boolean {
    if (scope.source !== undefined && session.source !== scope.source) return false;
    if (scope.userId !== undefined && session.userId !== scope.userId) return false;
    if (scope.projectId !== undefined && session.projectId !== scope.projectId) return false;
    if (scope.routed !== undefined && (session.sessionKey !== null) !== scope.routed) return false;
    if (scope.sessionKey !== undefined && session.sessionKey !== scope.sessionKey) return false;
    return true;
  }

  async createSession(input: NewTranscriptSession): Promise<TranscriptSession> {
    assertSafeId("session id", input.id);
    assertText("source", input.source, 64);
    if (input.parentSessionId != null) assertSafeId("parent session id", input.parentSessionId);
    if (input.title != null) assertText("title", input.title, MAX_TITLE_LENGTH);
    const existing = this.#sessions.get(input.id);
    const title = existing?.title ?? input.title ?? null;
    if (title !== null && this.#titleTaken(title, input.id)) {
      throw new ConflictError(`Title ${JSON.stringify(title)} is already used by another session`);
    }
    if (existing) {
      // An existing row wins: only its empty columns are filled.
      existing.userId ??= input.userId ?? null;
      existing.sessionKey ??= input.sessionKey ?? null;
      existing.chatId ??= input.chatId ?? null;
      existing.chatType ??= input.chatType ?? null;
      existing.threadId ??= input.threadId ?? null;
      existing.title = title;
      existing.model ??= input.model ?? null;
      existing.parentSessionId ??= input.parentSessionId ?? null;
      existing.projectId ??= input.projectId ?? null;
      existing.profile ??= input.profile ?? null;
      return this.#view(existing);
    }
    const startedAt = input.startedAt ?? this.#clock.now();
    const session: SessionState = {
      id: input.id,
      source: input.source,
      userId: input.userId ?? null,
      sessionKey: input.sessionKey ?? null,
      chatId: input.chatId ?? null,
      chatType: input.chatType ?? null,
      threadId: input.threadId ?? null,
      title,
      model: input.model ?? null,
      parentSessionId: input.parentSessionId ?? null,
      startedAt,
      endedAt: null,
      endReason: null,
      messageCount: 0,
      toolCallCount: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      pinned: false,
      archived: false,
      projectId: input.projectId ?? null,
      profile: input.profile ?? null,
      updatedAt: startedAt,
      deletedAt: null,
    };
    this.#sessions.set(session.id, session);
    return this.#view(session);
  }

  async getSession(sessionId: string): Promise<TranscriptSession | undefined> {
    assertSafeId("session id", sessionId);
    const session = this.#live(sessionId);
    return session ? this.#view(session) : undefined;
  }

  async updateSession(sessionId: string, patch: TranscriptSessionPatch): Promise<TranscriptSession> {
    assertSafeId("session id", sessionId);
    if (patch.title != null) assertText("title", patch.title, MAX_TITLE_LENGTH);
    const session = this.#require(sessionId);
    if (patch.title != null && this.#titleTaken(patch.title, sessionId)) {
      throw new ConflictError(`Title ${JSON.stringify(patch.title)} is already used by another session`);
    }
    if (patch.title !== undefined) session.title = patch.title;
    if (patch.model !== undefined) session.model = patch.model;
    if (patch.pinned !== undefined) session.pinned = patch.pinned;
    if (patch.archived !== undefined) session.archived = patch.archived;
    if (patch.projectId !== undefined) session.projectId = patch.projectId;
    if (patch.profile !== undefined) session.profile = patch.profile;
    session.updatedAt = this.#clock.now();
    return this.#view(session);
  }

  async deleteSession(sessionId: string): Promise<void> {
    assertSafeId("session id", sessionId);
    const session = this.#require(sessionId);
    session.deletedAt = this.#clock.now();
    session.updatedAt = session.deletedAt;
  }

  async endSession(sessionId: string, reason: string): Promise<EndTranscriptSessionResult> {
    assertSafeId("session id", sessionId);
    assertText("reason", reason, 64);
    const session = this.#require(sessionId);
    if (session.endReason !== null || session.endedAt !== null) {
      return { ended: false, endReason: session.endReason ?? reason };
    }
    session.endedAt = this.#clock.now();
    session.endReason = reason;
    session.updatedAt = session.endedAt;
    return { ended: true, endReason: reason };
  }

  async reopenSession(sessionId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    const session = this.#require(sessionId);
    if (session.endedAt === null && session.endReason === null) return false;
    session.endedAt = null;
    session.endReason = null;
    session.updatedAt = this.#clock.now();
    return true;
  }

  async appendMessage(
    sessionId: string,
    message: NewTranscriptMessage,
  ): Promise<AppendTranscriptMessageResult> {
    assertSafeId("session id", sessionId);
    const prepared = prepareTranscriptMessage(message, this.#maxMessageBytes, this.#clock.now());
    const session = this.#require(sessionId);
    const list = this.#messagesOf(sessionId);
    const platformId = prepared.platformMessageId;
    const receipts =
      platformId === null || session.sessionKey === null ? undefined : this.#receiptsOf(session.sessionKey);
    if (platformId !== null) {
      const earlier = receipts?.get(platformId);
      if (earlier) {
        return { messageId: earlier.messageId, duplicate: true, existingSessionId: earlier.sessionId };
      }
      const existing = list.find((row) => row.platformMessageId === platformId);
      if (existing) {
        // A copy (branch, import) the key never received: from now on it counts as delivered here.
        receipts?.set(platformId, { sessionId, messageId: existing.id, receivedAt: this.#clock.now() });
        return { messageId: existing.id, duplicate: true, existingSessionId: sessionId };
      }
    }
    const row = this.#toMessage(sessionId, prepared);
    list.push(row);
    if (platformId !== null) {
      receipts?.set(platformId, { sessionId, messageId: row.id, receivedAt: this.#clock.now() });
    }
    session.messageCount += 1;
    session.toolCallCount += prepared.toolCallCount;
    session.inputTokens += prepared.inputTokens;
    session.outputTokens += prepared.outputTokens;
    session.costUsd += prepared.costUsd;
    session.updatedAt = this.#clock.now();
    return {
      messageId: row.id,
      duplicate: false,
      session: { messageCount: session.messageCount, updatedAt: session.updatedAt },
    };
  }

  async getMessages(
    sessionId: string,
    options: { includeInactive?: boolean } = {},
  ): Promise<TranscriptMessage[]> {
    assertSafeId("session id", sessionId);
    return (this.#messages.get(sessionId) ?? [])
      .filter((message) => options.includeInactive || message.active)
      .map((message) => structuredClone(message));
  }

  async replaceMessages(sessionId: string, messages: readonly NewTranscriptMessage[]): Promise<number> {
    assertSafeId("session id", sessionId);
    if (!Array.isArray(messages)) throw new InvalidArgumentError("messages", "must be an array");
    const now = this.#clock.now();
    const prepared = messages.map((message) => prepareTranscriptMessage(message, this.#maxMessageBytes, now));
    const session = this.#require(sessionId);
    const seen = new Set<string>();
    for (const message of prepared) {
      if (message.platformMessageId === null) continue;
      if (seen.has(message.platformMessageId)) {
        throw new ConflictError("replaceMessages: two messages share a platformMessageId", { sessionId });
      }
      seen.add(message.platformMessageId);
    }
    this.#messages.set(
      sessionId,
      prepared.map((message) => this.#toMessage(sessionId, message)),
    );
    this.#recount(session);
    return prepared.length;
  }

  async rewindToUserMessage(sessionId: string, messageId: number): Promise<TranscriptRewindResult> {
    assertSafeId("session id", sessionId);
    assertMessageId(messageId);
    this.#require(sessionId);
    const list = this.#messagesOf(sessionId);
    const target = list.find((message) => message.id === messageId);
    if (target?.role !== "user" || !target.active) {
      throw new NotFoundError("active user message", `${sessionId}#${messageId}`);
    }
    let rewound = 0;
    for (const message of list) {
      if (message.id >= messageId && message.active) {
        message.active = false;
        rewound++;
      }
    }
    this.#recount(this.#require(sessionId));
    return {
      rewoundCount: rewound,
      targetMessageId: messageId,
      targetText: transcriptMessageText(target.content, target.parts),
    };
  }

  async restoreRewound(sessionId: string): Promise<number> {
    assertSafeId("session id", sessionId);
    const session = this.#require(sessionId);
    const list = this.#messagesOf(sessionId);
    const lastActive = list.reduce((max, message) => (message.active ? Math.max(max, message.id) : max), 0);
    let restored = 0;
    for (const message of list) {
      if (!message.active && !message.compacted && message.id > lastActive) {
        message.active = true;
        restored++;
      }
    }
    if (restored > 0) this.#recount(session);
    return restored;
  }

  async listRecentUserMessages(sessionId: string, limit: number): Promise<TranscriptUserMessage[]> {
    assertSafeId("session id", sessionId);
    const max = clampLimit(limit, 10, 1000);
    return (this.#messages.get(sessionId) ?? [])
      .filter((message) => message.role === "user" && message.active)
      .reverse()
      .slice(0, max)
      .map((message) => ({
        id: message.id,
        content: transcriptMessageText(message.content, message.parts),
        createdAt: message.createdAt,
      }));
  }

  async hasPlatformMessageId(sessionId: string, platformMessageId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    assertText("platformMessageId", platformMessageId, 256);
    return (this.#messages.get(sessionId) ?? []).some(
      (message) => message.platformMessageId === platformMessageId,
    );
  }

  async findPlatformMessage(
    sessionKey: string,
    platformMessageId: string,
  ): Promise<PlatformMessageRecord | undefined> {
    assertSafeId("session key", sessionKey, { maxLength: MAX_SESSION_KEY_LENGTH });
    assertText("platformMessageId", platformMessageId, 256);
    const receipt = this.#receipts.get(sessionKey)?.get(platformMessageId);
    if (!receipt) return undefined;
    const list = this.#messages.get(receipt.sessionId) ?? [];
    const at = list.findIndex((message) => message.id === receipt.messageId);
    let reply: PlatformMessageRecord["reply"] = null;
    // Gone when the transcript was replaced since: then nothing is known to answer it.
    for (const message of at < 0 ? [] : list.slice(at + 1)) {
      if (message.role === "user") break;
      if (message.role !== "assistant") continue;
      reply = {
        messageId: message.id,
        text: transcriptMessageText(message.content, message.parts),
        createdAt: message.createdAt,
      };
      break;
    }
    return {
      sessionKey,
      platformMessageId,
      sessionId: receipt.sessionId,
      messageId: receipt.messageId,
      receivedAt: receipt.receivedAt,
      reply,
    };
  }

  #receiptsOf(sessionKey: string): Map<string, ReceiptState> {
    let receipts = this.#receipts.get(sessionKey);
    if (!receipts) {
      receipts = new Map();
      this.#receipts.set(sessionKey, receipts);
    }
    return receipts;
  }

  async markCompacted(sessionId: string, throughMessageId: number): Promise<number> {
    assertSafeId("session id", sessionId);
    assertMessageId(throughMessageId);
    this.#require(sessionId);
    let marked = 0;
    for (const message of this.#messagesOf(sessionId)) {
      if (message.id <= throughMessageId && message.active && !message.compacted) {
        message.compacted = true;
        marked++;
      }
    }
    return marked;
  }

  async countMessages(sessionId: string, options: { includeInactive?: boolean } = {}): Promise<number> {
    assertSafeId("session id", sessionId);
    return (this.#messages.get(sessionId) ?? []).filter(
      (message) => options.includeInactive || message.active,
    ).length;
  }

  async startCompressionContinuation(
    parentId: string,
    child: Omit<NewTranscriptSession, "source" | "parentSessionId"> & Partial<TranscriptPeer>,
  ): Promise<TranscriptSession> {
    assertSafeId("parent session id", parentId);
    assertSafeId("session id", child.id);
    if (child.id === parentId) throw new InvalidArgumentError("child.id", "must differ from the parent id");
    if (child.title != null) assertText("title", child.title, MAX_TITLE_LENGTH);
    const parent = this.#require(parentId);
    if (parent.endReason !== null && parent.endReason !== COMPRESSION_END_REASON) {
      throw new ConflictError(
        `Session ${JSON.stringify(parentId)} already ended (${parent.endReason}); it cannot be compressed`,
        { sessionId: parentId, endReason: parent.endReason },
      );
    }
    if (this.#sessions.has(child.id) || (child.title != null && this.#titleTaken(child.title))) {
      throw new ConflictError(`Session ${JSON.stringify(child.id)} (or its title) already exists`);
    }
    const now = this.#clock.now();
    parent.endedAt ??= now;
    parent.endReason = COMPRESSION_END_REASON;
    parent.updatedAt = now;
    const pick = (value: string | null | undefined, fallback: string | null) =>
      value === undefined ? fallback : value;
    return this.createSession({
      id: child.id,
      source: child.source ?? parent.source,
      userId: pick(child.userId, parent.userId),
      sessionKey: pick(child.sessionKey, parent.sessionKey),
      chatId: pick(child.chatId, parent.chatId),
      chatType: pick(child.chatType, parent.chatType),
      threadId: pick(child.threadId, parent.threadId),
      title: child.title ?? null,
      model: pick(child.model, parent.model),
      parentSessionId: parentId,
      projectId: pick(child.projectId, parent.projectId),
      profile: pick(child.profile, parent.profile),
      startedAt: child.startedAt ?? now,
    });
  }

  async getCompressionTip(sessionId: string): Promise<string | undefined> {
    assertSafeId("session id", sessionId);
    if (!this.#live(sessionId)) return undefined;
    const seen = new Set([sessionId]);
    let tip = sessionId;
    for (let hop = 0; hop < MAX_LINEAGE_HOPS; hop++) {
      const current = this.#sessions.get(tip);
      if (current?.endReason !== COMPRESSION_END_REASON) break;
      const child = [...this.#sessions.values()]
        .filter((session) => session.deletedAt === null && session.parentSessionId === tip)
        .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))[0];
      if (!child || seen.has(child.id)) break;
      seen.add(child.id);
      tip = child.id;
    }
    return tip;
  }

  async findLatestSessionForPeer(peer: TranscriptPeer): Promise<TranscriptSession | undefined> {
    assertText("peer.source", peer.source, 64);
    if (peer.sessionKey == null && peer.userId == null) {
      throw new InvalidArgumentError("peer", "needs a sessionKey or a userId");
    }
    const matches = (value: string | null, wanted: string | null | undefined) =>
      wanted === undefined || value === wanted;
    const latest = [...this.#sessions.values()]
      .filter(
        (session) =>
          session.deletedAt === null &&
          session.source === peer.source &&
          matches(session.sessionKey, peer.sessionKey) &&
          matches(session.userId, peer.userId) &&
          matches(session.chatId, peer.chatId) &&
          matches(session.chatType, peer.chatType) &&
          matches(session.threadId, peer.threadId),
      )
      .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))[0];
    return latest && isRecoverableSession(latest) ? this.#view(latest) : undefined;
  }

  async recordPeer(sessionId: string, peer: TranscriptPeer): Promise<void> {
    assertSafeId("session id", sessionId);
    assertText("peer.source", peer.source, 64);
    const session = this.#require(sessionId);
    session.source = peer.source;
    if (peer.userId !== undefined) session.userId = peer.userId;
    if (peer.sessionKey !== undefined) session.sessionKey = peer.sessionKey;
    if (peer.chatId !== undefined) session.chatId = peer.chatId;
    if (peer.chatType !== undefined) session.chatType = peer.chatType;
    if (peer.threadId !== undefined) session.threadId = peer.threadId;
    session.updatedAt = this.#clock.now();
  }

  async searchMessages(options: SearchTranscriptOptions): Promise<TranscriptSearchHit[]> {
    assertText("query", options.query, 1000);
    assertScope(options.scope);
    if (options.sessionId !== undefined) assertSafeId("session id", options.sessionId);
    const limit = clampLimit(options.limit, 20, 200);
    // A subset of web-search syntax: every plain word must occur, `-word` must not.
    const terms = options.query.split(/\s+/).filter(Boolean);
    const required = terms.filter((term) => !term.startsWith("-")).flatMap(words);
    const excluded = terms.filter((term) => term.startsWith("-")).flatMap((term) => words(term.slice(1)));
    if (required.length === 0) return [];
    const hits: Array<TranscriptSearchHit & { rank: number }> = [];
    for (const session of this.#sessions.values()) {
      if (session.deletedAt !== null || !this.#inScope(session, options.scope)) continue;
      if (options.sessionId !== undefined && session.id !== options.sessionId) continue;
      for (const message of this.#messages.get(session.id) ?? []) {
        if (!message.active || message.content === null) continue;
        const tokens = words(message.content);
        const set = new Set(tokens);
        if (!required.every((term) => set.has(term)) || excluded.some((term) => set.has(term))) continue;
        const rank = tokens.filter((token) => required.includes(token)).length / tokens.length;
        hits.push({
          messageId: message.id,
          sessionId: session.id,
          role: message.role,
          snippet: message.content.slice(0, 200),
          createdAt: message.createdAt,
          rank,
        });
      }
    }
    return hits
      .sort((a, b) => b.rank - a.rank || b.messageId - a.messageId)
      .slice(0, limit)
      .map(({ rank: _rank, ...hit }) => hit);
  }

  async listSessions(options: ListTranscriptSessionsOptions): Promise<TranscriptSessionListItem[]> {
    assertScope(options.scope);
    const limit = clampLimit(options.limit, 50, 500);
    const offset = options.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new InvalidArgumentError("offset", "must be a non-negative integer");
    }
    const chars = clampLimit(options.previewChars, 120, 2000);
    return [...this.#sessions.values()]
      .filter(
        (session) =>
          session.deletedAt === null &&
          this.#inScope(session, options.scope) &&
          (options.includeArchived || !session.archived) &&
          (options.includeEnded !== false || session.endedAt === null),
      )
      .sort(
        (a, b) =>
          Number(b.pinned) - Number(a.pinned) ||
          b.updatedAt - a.updatedAt ||
          (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
      )
      .slice(offset, offset + limit)
      .map((session) => {
        const active = (this.#messages.get(session.id) ?? []).filter((message) => message.active);
        const firstUser = active.find((message) => message.role === "user");
        const last = active[active.length - 1];
        return {
          session: this.#view(session),
          firstUserMessage: firstUser?.content == null ? null : firstUser.content.slice(0, chars),
          lastMessage: last
            ? { role: last.role, snippet: (last.content ?? "").slice(0, chars), createdAt: last.createdAt }
            : null,
        };
      });
  }

  async countSessions(scope: TranscriptScope, options: { includeArchived?: boolean } = {}): Promise<number> {
    assertScope(scope);
    let count = 0;
    for (const session of this.#sessions.values()) {
      if (session.deletedAt !== null || !this.#inScope(session, scope)) continue;
      if (!options.includeArchived && session.archived) continue;
      count++;
    }
    return count;
  }

  async nextAvailableTitle(base: string): Promise<string> {
    assertText("base", base, MAX_TITLE_LENGTH - 8);
    const title = base.trim();
    if (!this.#titleTaken(title)) return title;
    for (let n = 2; ; n++) {
      const candidate = `${title} #${n}`;
      if (!this.#titleTaken(candidate)) return candidate;
    }
  }

  async pruneEndedSessions(olderThan: number): Promise<number> {
    if (!Number.isFinite(olderThan)) throw new InvalidArgumentError("olderThan", "must be epoch ms");
    let pruned = 0;
    for (const session of [...this.#sessions.values()]) {
      if (session.pinned) continue;
      const ended = session.endedAt !== null && session.endedAt < olderThan;
      const deleted = session.deletedAt !== null && session.deletedAt < olderThan;
      if (!ended && !deleted) continue;
      this.#sessions.delete(session.id);
      this.#messages.delete(session.id);
      // As the receipts' foreign key cascades in Postgres: a pruned session's ids may arrive anew.
      for (const receipts of this.#receipts.values()) {
        for (const [platformId, receipt] of receipts) {
          if (receipt.sessionId === session.id) receipts.delete(platformId);
        }
      }
      pruned++;
    }
    return pruned;
  }
}
