import {
  estimateTokens,
  type NewSessionMessage,
  newMessageId,
  type SessionMessage,
} from "./session-message.js";
import { emptySessionState, type SessionStateRecord } from "./session-state.js";
import {
  cloneWindowState,
  detectTaskCandidate,
  emptyWindowState,
  type SessionWindowState,
} from "./session-window-state.js";

/** Who a session belongs to, bound when its buffer is first created. */
export interface SessionIdentity {
  readonly accountId?: string;
  readonly userId?: string;
  readonly agentId?: string;
}

export interface SessionBufferMeta {
  readonly sessionId: string;
  identity: SessionIdentity;
  createdAt: number;
  updatedAt: number;
  commitCount: number;
  lastCommitAt: number | null;
}

/**
 * A compaction "prepare" handshake: the token is valid only while the buffer still has exactly the
 * messages and watermark it was issued against, so a compaction planned on one view of the session
 * is never applied to another.
 */
export interface CompactionPrepare {
  readonly token: string;
  readonly archiveId: string;
  readonly messageCount: number;
  readonly watermark: number;
  readonly issuedAt: number;
}

/** What {@link SessionBuffer.snapshotAndClear} changes, captured so a failed commit can undo it. */
export interface BufferRollbackState {
  readonly messages: readonly SessionMessage[];
  readonly window: SessionWindowState;
  readonly updatedAt: number;
  readonly extractionWatermark: number;
  readonly extractionSummary: string;
  readonly compaction: CompactionPrepare | null;
}

/**
 * One session's in-memory buffer and the pure operations on it. Nothing here awaits: the manager
 * calls these inside synchronous sections, which is what makes each of them atomic per session.
 */
export class SessionBuffer {
  readonly sessionId: string;
  readonly meta: SessionBufferMeta;
  #messages: SessionMessage[] = [];
  #pendingTokens = 0;
  turnCount = 0;
  window: SessionWindowState;
  /** Durable task and commitments (persisted through the session state store). */
  state: SessionStateRecord = emptySessionState();
  commitInProgress = false;
  /** Messages before this index have been handed to extraction. */
  extractionWatermark = 0;
  /** What extraction produced so far (newest 2000 characters), shown to the next extraction. */
  extractionSummary = "";
  compaction: CompactionPrepare | null = null;
  #activeExtractions = 0;
  #extractionDone: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(sessionId: string, now: number, identity: SessionIdentity = {}) {
    this.sessionId = sessionId;
    this.meta = { sessionId, identity, createdAt: now, updatedAt: now, commitCount: 0, lastCommitAt: null };
    this.window = emptyWindowState(now);
  }

  get messages(): readonly SessionMessage[] {
    return this.#messages;
  }

  get pendingTokens(): number {
    return this.#pendingTokens;
  }

  get extractionInProgress(): boolean {
    return this.#activeExtractions > 0;
  }

  get activeExtractions(): number {
    return this.#activeExtractions;
  }

  /** Messages not yet handed to extraction. */
  get unextractedCount(): number {
    return Math.max(0, this.#messages.length - this.extractionWatermark);
  }

  add(input: NewSessionMessage, now: number): SessionMessage {
    const message: SessionMessage = Object.freeze({
      id: newMessageId(),
      role: input.role,
      content: input.content,
      createdAt: input.createdAt ?? now,
      estimatedTokens: estimateTokens(input.content),
    });
    this.#messages.push(message);
    this.#pendingTokens += message.estimatedTokens;
    if (message.role === "user") {
      this.turnCount += 1;
      const task = detectTaskCandidate(message.content);
      if (task) this.window.activeTask = task;
    }
    this.meta.updatedAt = now;
    return message;
  }

  /** True once enough turns or tokens accumulated since the window was last compressed. */
  shouldCompress(turnThreshold = 10, tokenThreshold = 10_000): boolean {
    const turnsSince = this.turnCount - this.window.turnCountAtLastCompress;
    const tokensSince = this.#pendingTokens - this.window.tokenCountAtLastCompress;
    return turnsSince >= turnThreshold || tokensSince >= tokenThreshold;
  }

  captureRollbackState(): BufferRollbackState {
    return {
      messages: [...this.#messages],
      window: cloneWindowState(this.window),
      updatedAt: this.meta.updatedAt,
      extractionWatermark: this.extractionWatermark,
      extractionSummary: this.extractionSummary,
      compaction: this.compaction,
    };
  }

  /**
   * Hands the messages to a commit and empties the buffer. The watermark restarts at 0 (it indexes
   * the buffer, which is now empty) but the extraction summary is kept: it describes what was
   * extracted from the session, not what is buffered. Any compaction token dies with the old view.
   */
  snapshotAndClear(now: number): SessionMessage[] {
    const snapshot = this.#messages;
    this.#setMessages([]);
    this.window = emptyWindowState(this.window.lastAccessedAt);
    this.meta.updatedAt = now;
    this.extractionWatermark = 0;
    this.compaction = null;
    return snapshot;
  }

  /**
   * Undoes {@link snapshotAndClear} after a failed commit: the snapshot's messages come back first,
   * followed by any that arrived while the commit ran, in arrival order. The watermark cannot point
   * past the restored messages.
   */
  restoreRollbackState(state: BufferRollbackState): void {
    const restoredIds = new Set(state.messages.map((m) => m.id));
    const arrived = this.#messages.filter((m) => !restoredIds.has(m.id));
    this.#setMessages([...state.messages, ...arrived]);
    this.window = { ...cloneWindowState(state.window), lastAccessedAt: this.window.lastAccessedAt };
    this.meta.updatedAt = state.updatedAt;
    this.extractionWatermark = Math.min(state.extractionWatermark, this.#messages.length);
    this.extractionSummary = state.extractionSummary;
    this.compaction = state.compaction;
  }

  /**
   * Registers one more running extraction; the promise resolves when every extraction that overlaps
   * this one has ended (the count returns to zero).
   */
  beginExtraction(): Promise<void> {
    if (!this.#extractionDone) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#extractionDone = { promise, resolve };
    }
    this.#activeExtractions += 1;
    return this.#extractionDone.promise;
  }

  /** Ends one extraction; extra calls are harmless (the count never goes below zero). */
  endExtraction(): void {
    if (this.#activeExtractions > 0) this.#activeExtractions -= 1;
    if (this.#activeExtractions === 0 && this.#extractionDone) {
      this.#extractionDone.resolve();
      this.#extractionDone = undefined;
    }
  }

  /** Resolves when no extraction runs (immediately if none does). */
  whenExtractionsDone(): Promise<void> {
    return this.#extractionDone?.promise ?? Promise.resolve();
  }

  /**
   * Removes the given (archived) messages and nothing else; messages that arrived later stay. The
   * watermark moves back by the removed messages that were before it, so it still points at the
   * same first unextracted message.
   */
  removeMessagesById(ids: ReadonlySet<string>, now: number): number {
    if (ids.size === 0) return 0;
    const kept: SessionMessage[] = [];
    let removedBeforeWatermark = 0;
    for (const [index, message] of this.#messages.entries()) {
      if (!ids.has(message.id)) kept.push(message);
      else if (index < this.extractionWatermark) removedBeforeWatermark += 1;
    }
    const removed = this.#messages.length - kept.length;
    if (removed === 0) return 0;
    this.#setMessages(kept);
    this.window.sessionStateSyncTurnCount = Math.min(this.window.sessionStateSyncTurnCount, this.turnCount);
    this.extractionWatermark = Math.max(
      0,
      Math.min(kept.length, this.extractionWatermark - removedBeforeWatermark),
    );
    this.meta.updatedAt = now;
    return removed;
  }

  /**
   * Moves the watermark back to the first of `ids` still in the buffer, so a failed extraction is
   * offered again. Never moves it forward; false when no such message precedes the watermark.
   */
  rewindWatermarkToIds(ids: ReadonlySet<string>, now: number): boolean {
    if (ids.size === 0) return false;
    const index = this.#messages.findIndex((message) => ids.has(message.id));
    if (index === -1 || index >= this.extractionWatermark) return false;
    this.extractionWatermark = index;
    this.meta.updatedAt = now;
    return true;
  }

  #setMessages(messages: SessionMessage[]): void {
    this.#messages = messages;
    let tokens = 0;
    let turns = 0;
    for (const message of messages) {
      tokens += message.estimatedTokens;
      if (message.role === "user") turns += 1;
    }
    this.#pendingTokens = tokens;
    this.turnCount = turns;
  }
}
