import type { JsonObject } from "@engram/core";
import {
  assertSafeId,
  type Clock,
  type ErrorCode,
  InvalidArgumentError,
  isEngramError,
  type Logger,
  noopLogger,
  StoreError,
  systemClock,
} from "@engram/core";
import type {
  ArchivedMessage,
  ArchiveStore,
  ArchiveSummary,
  SessionArchive,
} from "../ports/archive-store.js";
import { compareArchivesNewestFirst } from "../ports/archive-store.js";
import { InMemoryArchiveStore } from "../ports/in-memory-archive-store.js";
import {
  generateArchiveId,
  generateCompactionToken,
  generateMergedArchiveId,
  generateTaskId,
} from "./archive-id.js";
import { mergeArchives } from "./archive-merger.js";
import { ArchiveStoreUnavailableError } from "./archive-store-unavailable-error.js";
import type { CommitResult, CommitTask, CommitTaskKind } from "./commit-task.js";
import {
  DeterministicMemoryExtractor,
  type ExtractedMemory,
  type MemoryExtractor,
} from "./memory-extractor.js";
import { type BufferRollbackState, SessionBuffer, type SessionIdentity } from "./session-buffer.js";
import {
  type CompressedSegment,
  DeterministicSessionCompressor,
  type SessionCompressor,
} from "./session-compressor.js";
import {
  assertNewSessionMessage,
  estimateTokens,
  type NewSessionMessage,
  type SessionMessage,
} from "./session-message.js";
import {
  applySessionStateToWindow,
  cloneSessionState,
  hasSessionState,
  promoteWindowState,
  type SessionCommitment,
  type SessionCommitmentKind,
  type SessionCommitmentStatus,
  type SessionStateRecord,
  sessionStateFromJson,
} from "./session-state.js";
import type { SessionStateStore } from "./session-state-store.js";
import { cloneWindowState, type SessionWindowState, windowStateFromJson } from "./session-window-state.js";

export const DEFAULT_COMPACTION_TOKEN_TTL_MS = 300_000;
const EXTRACTION_SUMMARY_MAX_CHARS = 2000;
const SESSION_STATE_VERSION = 1;

export interface SessionBufferManagerProps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Where archives go. Without one, archives live in process memory (`memory://` URIs) unless
   * `archiveStoreRequired` is set.
   */
  readonly archiveStore?: ArchiveStore;
  /**
   * Fail a commit (and roll its buffer back) when the archive store is missing or fails, instead of
   * keeping the archive in process memory. Production setups with a database want this.
   */
  readonly archiveStoreRequired?: boolean;
  /** Persists task, commitments, window and counters across restarts and evictions. */
  readonly sessionStateStore?: SessionStateStore;
  /** Defaults to {@link DeterministicSessionCompressor}, which is also the fallback when this throws. */
  readonly compressor?: SessionCompressor;
  /** Defaults to {@link DeterministicMemoryExtractor}. */
  readonly extractor?: MemoryExtractor;
  /** Live archives kept per session after a merge (default 10). */
  readonly archiveMaxCount?: number;
  /** Live archive count at which the oldest are merged (default 10). */
  readonly archiveMergeThreshold?: number;
  /** Messages kept in a merged archive (default 200). */
  readonly archiveMergeMaxMessages?: number;
  /** Lifetime of a compaction prepare token (default 300 000 ms). */
  readonly compactionTokenTtlMs?: number;
  /** Settled tasks remembered for polling; the oldest are forgotten first (default 1000). */
  readonly maxRetainedTasks?: number;
}

export interface SessionAccessOptions {
  /** Bound to the session when its buffer is first created; ignored afterwards. */
  readonly identity?: SessionIdentity;
}

export interface AddMessageResult {
  readonly messageId: string;
  readonly pendingTokens: number;
  readonly messageCount: number;
  readonly turnCount: number;
}

export interface SessionBufferInfo {
  readonly sessionId: string;
  readonly identity: SessionIdentity;
  readonly pendingTokens: number;
  readonly messageCount: number;
  readonly turnCount: number;
  /** Commits (buffer or snapshot) whose phase 2 has finished, failed ones included, as in the seed. */
  readonly commitCount: number;
  readonly lastCommitAt: number | null;
  readonly commitInProgress: boolean;
  readonly extractionWatermark: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastAccessedAt: number;
}

export interface CommitOptions {
  /** Run phase 2 before returning (default false: it runs in the background; poll the task). */
  readonly wait?: boolean;
  /** Use this archive id instead of a generated one. */
  readonly archiveId?: string;
}

export interface ExtractionState {
  readonly watermark: number;
  readonly summary: string;
  readonly messageCount: number;
  readonly inProgress: boolean;
  readonly activeCount: number;
}

export type ExtractionOutcome =
  | { readonly status: "nothing_to_extract" }
  | {
      readonly status: "extracted";
      readonly messageCount: number;
      readonly memories: readonly ExtractedMemory[];
    }
  | {
      readonly status: "failed";
      readonly messageCount: number;
      readonly error: { readonly code: string; readonly message: string };
    };

export interface CompactionTokenState {
  readonly token: string;
  readonly archiveId: string;
}

export type ArchiveMergeResult =
  | { readonly merged: true; readonly mergedArchiveId: string; readonly sourceArchiveIds: readonly string[] }
  | {
      readonly merged: false;
      readonly reason: "no_store" | "below_threshold" | "nothing_to_merge" | "write_failed" | "mark_failed";
      /** For `mark_failed`: the archive whose mark failed (everything marked before it was unmarked). */
      readonly failedArchiveId?: string;
    };

export interface ContextArchiveRef {
  readonly archiveId: string;
  readonly abstract: string;
  readonly createdAt: number;
}

/** What fits of a session in a token budget. */
export interface SessionBufferContext {
  readonly sessionId: string;
  /** The newest archive's overview, cut to its newest part when the budget is short ("" if none fit). */
  readonly latestArchiveOverview: string;
  /** Abstracts of archives, newest first, as many as fit whole. */
  readonly archives: readonly ContextArchiveRef[];
  /** The newest active messages that fit, in chronological order. */
  readonly messages: readonly SessionMessage[];
  /** Estimated tokens of everything returned; never above the budget. */
  readonly estimatedTokens: number;
  readonly tokenBudget: number;
  /** Estimated tokens of the whole active buffer. */
  readonly pendingTokens: number;
  readonly activeMessageCount: number;
  readonly archiveCount: number;
  readonly omittedMessageCount: number;
  readonly omittedArchiveCount: number;
  readonly overviewTruncated: boolean;
}

export interface WorkingSetEntry {
  readonly sessionId: string;
  readonly lastAccessedAt: number;
  readonly messageCount: number;
  readonly pendingTokens: number;
  readonly activeTask: string;
}

interface TaskRecord {
  task: CommitTask;
  readonly settled: Promise<CommitTask>;
}

interface WrittenArchive {
  readonly uri: string;
  readonly degraded: boolean;
}

function errorInfo(error: unknown): { code: ErrorCode; message: string } {
  if (isEngramError(error)) return { code: error.code, message: error.message };
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

function toArchived(message: SessionMessage): ArchivedMessage {
  return { id: message.id, role: message.role, content: message.content, createdAt: message.createdAt };
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(name, "must be an integer >= 1");
  return value;
}

/**
 * Server-side session buffers (seed 001): messages accumulate per session until a commit archives
 * them (compressed to an overview and abstract fused with the previous archive), with extraction
 * bookkeeping, compaction tokens, durable session state, archive merging and idle eviction.
 *
 * Concurrency model: JavaScript runs one callback at a time, so every section of a method between two
 * `await`s is atomic. Each public method first awaits the session (creating it and loading its saved
 * state once), then does its buffer work in one synchronous section: that section is the session's
 * guard. A commit's phase 1 (snapshot, clear, create the task) is such a section; phase 2 awaits the
 * compressor and the store, and its outcome (success, or rollback that keeps messages added
 * meanwhile) is applied in another.
 *
 * The manager does no I/O of its own: archives, state and extraction go through the injected ports.
 */
export class SessionBufferManager {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store: ArchiveStore | undefined;
  readonly #storeRequired: boolean;
  /** Archives kept in process memory when no store is configured or (not required) it failed. */
  readonly #memoryArchives: InMemoryArchiveStore;
  readonly #stateStore: SessionStateStore | undefined;
  readonly #compressor: SessionCompressor;
  readonly #fallbackCompressor = new DeterministicSessionCompressor();
  readonly #extractor: MemoryExtractor;
  readonly #archiveMaxCount: number;
  readonly #mergeThreshold: number;
  readonly #mergeMaxMessages: number;
  readonly #tokenTtlMs: number;
  readonly #maxTasks: number;

  readonly #sessions = new Map<string, SessionBuffer>();
  /** Buffers whose saved state is still loading; every access waits for it. */
  readonly #loading = new Map<SessionBuffer, Promise<void>>();
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #background = new Set<Promise<unknown>>();
  /** Per-session tails of chained work (saves, merges), so they never overtake each other. */
  readonly #saveChains = new Map<string, Promise<unknown>>();
  readonly #mergeChains = new Map<string, Promise<unknown>>();

  constructor(props: SessionBufferManagerProps = {}) {
    this.#clock = props.clock ?? systemClock;
    this.#log = props.logger ?? noopLogger;
    this.#store = props.archiveStore;
    this.#storeRequired = props.archiveStoreRequired ?? false;
    this.#memoryArchives = new InMemoryArchiveStore({ clock: this.#clock });
    this.#stateStore = props.sessionStateStore;
    this.#compressor = props.compressor ?? this.#fallbackCompressor;
    this.#extractor = props.extractor ?? new DeterministicMemoryExtractor();
    this.#archiveMaxCount = positiveInt("archiveMaxCount", props.archiveMaxCount, 10);
    this.#mergeThreshold = positiveInt("archiveMergeThreshold", props.archiveMergeThreshold, 10);
    this.#mergeMaxMessages = positiveInt("archiveMergeMaxMessages", props.archiveMergeMaxMessages, 200);
    this.#maxTasks = positiveInt("maxRetainedTasks", props.maxRetainedTasks, 1000);
    const ttl = props.compactionTokenTtlMs ?? DEFAULT_COMPACTION_TOKEN_TTL_MS;
    if (!Number.isFinite(ttl))
      throw new InvalidArgumentError("compactionTokenTtlMs", "must be a finite number");
    this.#tokenTtlMs = ttl;
  }

  // ---------------------------------------------------------------------------------------------
  // Sessions and messages

  /**
   * Adds a message; user messages count as turns and may set the active task.
   * Throws `INVALID_ID` / `INVALID_ARGUMENT` before touching anything.
   */
  async addMessage(
    sessionId: string,
    message: NewSessionMessage,
    options: SessionAccessOptions = {},
  ): Promise<AddMessageResult> {
    assertNewSessionMessage(message);
    const buf = await this.#session(sessionId, options.identity);
    const added = buf.add(message, this.#clock.now());
    return {
      messageId: added.id,
      pendingTokens: buf.pendingTokens,
      messageCount: buf.messages.length,
      turnCount: buf.turnCount,
    };
  }

  /** The session's counters (creating an empty session when it does not exist, as the seed does). */
  async getSession(sessionId: string, options: SessionAccessOptions = {}): Promise<SessionBufferInfo> {
    const buf = await this.#session(sessionId, options.identity);
    return this.#info(buf);
  }

  /** A copy of the buffered (not yet archived) messages, oldest first. */
  async getMessages(sessionId: string): Promise<SessionMessage[]> {
    return [...(await this.#session(sessionId)).messages];
  }

  async shouldCompress(sessionId: string, turnThreshold = 10, tokenThreshold = 10_000): Promise<boolean> {
    return (await this.#session(sessionId)).shouldCompress(turnThreshold, tokenThreshold);
  }

  async getWindowState(sessionId: string): Promise<SessionWindowState> {
    return cloneWindowState((await this.#session(sessionId)).window);
  }

  /** Replaces window fields (after an external compression, say); `lastAccessedAt` stays the manager's. */
  async updateWindowState(
    sessionId: string,
    patch: Partial<SessionWindowState>,
  ): Promise<SessionWindowState> {
    const buf = await this.#session(sessionId);
    buf.window = {
      ...cloneWindowState({ ...buf.window, ...patch }),
      lastAccessedAt: buf.window.lastAccessedAt,
    };
    return cloneWindowState(buf.window);
  }

  /** Records that the window was just compressed: `shouldCompress` measures from here on. */
  async markCompressed(sessionId: string): Promise<void> {
    const buf = await this.#session(sessionId);
    buf.window.turnCountAtLastCompress = buf.turnCount;
    buf.window.tokenCountAtLastCompress = buf.pendingTokens;
  }

  hasSession(sessionId: string): boolean {
    return this.#sessions.has(sessionId);
  }

  /** Drops the buffer (dispose/cleanup). Work already running finishes on the detached buffer. */
  removeSession(sessionId: string): boolean {
    return this.#sessions.delete(sessionId);
  }

  /**
   * Forgets a session: drops its buffer (unarchived messages included) and deletes its saved state.
   * Archives stay in the archive store. A commit already running finishes on the detached buffer.
   * True when there was a buffer or saved state to delete.
   */
  async deleteSession(sessionId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    const removed = this.#sessions.delete(sessionId);
    // Let a queued save land first, so it cannot resurrect the state deleted here.
    await this.#saveChains.get(sessionId);
    const deleted = this.#stateStore ? await this.#stateStore.delete(sessionId) : false;
    return removed || deleted;
  }

  /** Sessions in memory, most recently accessed first. */
  listWorkingSet(): WorkingSetEntry[] {
    return [...this.#sessions.values()]
      .map((buf) => ({
        sessionId: buf.sessionId,
        lastAccessedAt: buf.window.lastAccessedAt,
        messageCount: buf.messages.length,
        pendingTokens: buf.pendingTokens,
        activeTask: buf.window.activeTask,
      }))
      .sort((a, b) => b.lastAccessedAt - a.lastAccessedAt);
  }

  // ---------------------------------------------------------------------------------------------
  // Commit

  /**
   * Two-phase commit of the live buffer. Phase 1, atomic for the session: refuse with
   * `empty_buffer` or `commit_in_progress`, else promote the window into durable state, snapshot
   * and clear the buffer and create a `processing` task. Phase 2 (background, or before returning
   * with `wait`): compress fused with the latest archive, write the archive, settle the task. On
   * failure the buffer gets the snapshot back, followed by messages added meanwhile, and the task
   * says `failed` with the error's code. A success saves session state and may merge old archives.
   */
  async commit(sessionId: string, options: CommitOptions = {}): Promise<CommitResult> {
    if (options.archiveId !== undefined) assertSafeId("archive id", options.archiveId);
    const buf = await this.#session(sessionId);
    // Phase 1: no await from here until the task exists.
    if (buf.messages.length === 0) return { accepted: false, sessionId, reason: "empty_buffer" };
    if (buf.commitInProgress) return { accepted: false, sessionId, reason: "commit_in_progress" };
    buf.commitInProgress = true;
    const now = this.#clock.now();
    promoteWindowState(buf.state, buf.window, now);
    const rollback = buf.captureRollbackState();
    const snapshot = buf.snapshotAndClear(now);
    const archiveId = options.archiveId ?? generateArchiveId(now);
    return this.#startTask(buf, "commit", snapshot, archiveId, options.wait ?? false, rollback);
  }

  /**
   * Archives a fixed snapshot (e.g. the older part of a buffer being compacted) without reading or
   * clearing the live buffer; pair it with {@link removeMessagesById} once it completes. Waits for
   * phase 2 by default. Refuses an empty snapshot with `empty_snapshot`.
   */
  async commitSnapshot(
    sessionId: string,
    snapshot: readonly SessionMessage[],
    options: CommitOptions = {},
  ): Promise<CommitResult> {
    if (options.archiveId !== undefined) assertSafeId("archive id", options.archiveId);
    if (!Array.isArray(snapshot)) throw new InvalidArgumentError("snapshot", "must be an array of messages");
    for (const [i, message] of snapshot.entries()) {
      assertNewSessionMessage(message);
      if (typeof message.id !== "string" || !message.id || !Number.isFinite(message.createdAt)) {
        throw new InvalidArgumentError(`snapshot[${i}]`, "must have a non-empty id and a finite createdAt");
      }
    }
    const buf = await this.#session(sessionId);
    if (snapshot.length === 0) return { accepted: false, sessionId, reason: "empty_snapshot" };
    const archiveId = options.archiveId ?? generateArchiveId(this.#clock.now());
    return this.#startTask(buf, "snapshot", [...snapshot], archiveId, options.wait ?? true, undefined);
  }

  /** The task's current state, or `undefined` for an unknown (or long forgotten) task. */
  getTask(taskId: string): CommitTask | undefined {
    return this.#tasks.get(taskId)?.task;
  }

  /** Resolves with the task once it is `completed` or `failed`. */
  async waitForTask(taskId: string): Promise<CommitTask | undefined> {
    return this.#tasks.get(taskId)?.settled;
  }

  /** Resolves when every background commit, save and merge started so far (and any they start) has ended. */
  async drain(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  #startTask(
    buf: SessionBuffer,
    kind: CommitTaskKind,
    snapshot: SessionMessage[],
    archiveId: string,
    wait: boolean,
    rollback: BufferRollbackState | undefined,
  ): Promise<CommitResult> {
    const now = this.#clock.now();
    const task: CommitTask = Object.freeze({
      taskId: generateTaskId(),
      sessionId: buf.sessionId,
      archiveId,
      kind,
      status: "processing",
      archived: false,
      archiveUri: null,
      degraded: false,
      messageCount: snapshot.length,
      error: null,
      createdAt: now,
      updatedAt: now,
    });
    const settled = this.#runPhase2(buf, task.taskId, snapshot, rollback);
    this.#tasks.set(task.taskId, { task, settled });
    this.#forgetOldTasks();
    const done = this.#track(settled);
    if (!wait) return Promise.resolve({ accepted: true, task });
    return done.then((final) => ({ accepted: true, task: final }));
  }

  async #runPhase2(
    buf: SessionBuffer,
    taskId: string,
    snapshot: SessionMessage[],
    rollback: BufferRollbackState | undefined,
  ): Promise<CommitTask> {
    // Let phase 1's caller get its answer first; phase 2 never runs inside the guard.
    await Promise.resolve();
    const sessionId = buf.sessionId;
    const archiveId = this.#task(taskId).archiveId;
    try {
      const messages = snapshot.map(toArchived);
      const latest = await this.#latestArchive(sessionId);
      const segment = await this.#compress({
        sessionId,
        messages,
        previousOverview: latest?.overview ?? "",
        previousAbstract: latest?.abstract ?? "",
      });
      const written = await this.#writeArchive(sessionId, archiveId, segment, messages);
      this.#updateTask(taskId, {
        status: "completed",
        archived: true,
        archiveUri: written.uri,
        degraded: written.degraded,
      });
    } catch (error) {
      this.#log.error({ sessionId, archiveId, err: error }, "session commit phase 2 failed");
      this.#updateTask(taskId, { status: "failed", error: errorInfo(error) });
    }
    // Settle the buffer in the same synchronous section that settles the task, so no one observes
    // a finished task with a buffer still marked as committing.
    const final = this.#task(taskId);
    const now = this.#clock.now();
    if (rollback) buf.commitInProgress = false;
    buf.meta.commitCount += 1;
    buf.meta.lastCommitAt = now;
    if (final.status === "failed" && rollback) buf.restoreRollbackState(rollback);
    if (final.status === "completed") {
      await this.saveSessionState(sessionId);
      if (this.#store) {
        this.#track(
          this.mergeArchives(sessionId).catch((error: unknown) => {
            this.#log.warn({ sessionId, err: error }, "archive auto-merge failed");
          }),
        );
      }
    }
    return this.#task(taskId);
  }

  async #compress(input: Parameters<SessionCompressor["compress"]>[0]): Promise<CompressedSegment> {
    try {
      return await this.#compressor.compress(input);
    } catch (error) {
      if (this.#compressor === this.#fallbackCompressor) throw error;
      this.#log.warn(
        { sessionId: input.sessionId, err: error },
        "compressor failed; using the deterministic one",
      );
      return this.#fallbackCompressor.compress(input);
    }
  }

  async #writeArchive(
    sessionId: string,
    archiveId: string,
    segment: CompressedSegment,
    messages: ArchivedMessage[],
  ): Promise<WrittenArchive> {
    const archive = {
      sessionId,
      archiveId,
      overview: segment.overview,
      abstract: segment.abstract,
      messages,
    };
    const memoryUri = `memory://${sessionId}/${archiveId}`;
    if (!this.#store) {
      if (this.#storeRequired) throw new ArchiveStoreUnavailableError(sessionId);
      await this.#memoryArchives.writeArchive(archive);
      return { uri: memoryUri, degraded: false };
    }
    try {
      await this.#store.writeArchive(archive);
      return { uri: `archive://${sessionId}/${archiveId}`, degraded: false };
    } catch (error) {
      // Bad input (a duplicate archive id, say) is the caller's problem, not an outage: never degrade it.
      const outage = !isEngramError(error) || error.code === "STORE_FAILED";
      if (this.#storeRequired || !outage)
        throw isEngramError(error) ? error : new StoreError("archive.write", error);
      this.#log.warn(
        { sessionId, archiveId, err: error },
        "archive store failed; keeping the archive in memory",
      );
      await this.#memoryArchives.writeArchive(archive);
      return { uri: memoryUri, degraded: true };
    }
  }

  /** Live archives from the store and from process memory, newest first. */
  async #listArchives(sessionId: string): Promise<ArchiveSummary[]> {
    const fromMemory = await this.#memoryArchives.listArchives(sessionId);
    const fromStore = this.#store ? await this.#store.listArchives(sessionId) : [];
    return [...fromStore, ...fromMemory].sort(compareArchivesNewestFirst);
  }

  async #latestArchive(sessionId: string): Promise<ArchiveSummary | undefined> {
    try {
      return (await this.#listArchives(sessionId))[0];
    } catch (error) {
      // Fusion is an improvement, not a requirement: a commit still archives without it.
      this.#log.warn({ sessionId, err: error }, "could not read the latest archive for fusion");
      return undefined;
    }
  }

  #task(taskId: string): CommitTask {
    const record = this.#tasks.get(taskId);
    if (!record) throw new Error(`task ${taskId} vanished while running`);
    return record.task;
  }

  #updateTask(taskId: string, patch: Partial<CommitTask>): void {
    const record = this.#tasks.get(taskId);
    if (record) record.task = Object.freeze({ ...record.task, ...patch, updatedAt: this.#clock.now() });
  }

  #forgetOldTasks(): void {
    if (this.#tasks.size <= this.#maxTasks) return;
    for (const [taskId, record] of this.#tasks) {
      if (this.#tasks.size <= this.#maxTasks) break;
      if (record.task.status !== "processing") this.#tasks.delete(taskId);
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#background.add(promise);
    const forget = () => this.#background.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  // ---------------------------------------------------------------------------------------------
  // Archive merge

  /**
   * Merges the oldest live archives into one once the session has `archiveMergeThreshold` of them,
   * leaving `archiveMaxCount - 1` unmerged plus the merged one. Sources are marked merged one by
   * one; if any mark fails, the marks already made are undone and the merged archive deleted, so the
   * session is left as it was. Runs after every successful commit; merges of one session never overlap.
   */
  mergeArchives(sessionId: string): Promise<ArchiveMergeResult> {
    assertSafeId("session id", sessionId);
    const previous = this.#mergeChains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(
      () => this.#mergeOnce(sessionId),
      () => this.#mergeOnce(sessionId),
    );
    this.#mergeChains.set(sessionId, next);
    const cleanup = () => {
      if (this.#mergeChains.get(sessionId) === next) this.#mergeChains.delete(sessionId);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  async #mergeOnce(sessionId: string): Promise<ArchiveMergeResult> {
    const store = this.#store;
    if (!store) return { merged: false, reason: "no_store" };
    const entries = await store.listArchives(sessionId);
    if (entries.length < 2 || entries.length < this.#mergeThreshold)
      return { merged: false, reason: "below_threshold" };
    const oldestFirst = [...entries].reverse();
    const count = Math.max(2, oldestFirst.length - this.#archiveMaxCount + 1);
    const sources = oldestFirst.slice(0, count);
    const full: SessionArchive[] = await Promise.all(
      sources.map(
        async (entry) => (await store.readArchive(sessionId, entry.archiveId)) ?? { ...entry, messages: [] },
      ),
    );
    const merged = mergeArchives(full, { maxMessages: this.#mergeMaxMessages });
    if (!merged.overview && merged.messages.length === 0)
      return { merged: false, reason: "nothing_to_merge" };
    const mergedArchiveId = generateMergedArchiveId(this.#clock.now());
    try {
      await store.writeArchive({
        sessionId,
        archiveId: mergedArchiveId,
        overview: merged.overview,
        abstract: merged.abstract,
        messages: merged.messages,
        metadata: merged.metadata,
        createdAt: merged.createdAt,
      });
    } catch (error) {
      this.#log.warn({ sessionId, err: error }, "archive merge: writing the merged archive failed");
      return { merged: false, reason: "write_failed" };
    }
    const marked: string[] = [];
    for (const source of sources) {
      let ok: boolean;
      try {
        ok = await store.markArchiveMerged(sessionId, source.archiveId, mergedArchiveId);
      } catch (error) {
        this.#log.warn({ sessionId, archiveId: source.archiveId, err: error }, "archive merge: mark failed");
        ok = false;
      }
      if (!ok) {
        await this.#undoMerge(store, sessionId, mergedArchiveId, marked);
        return { merged: false, reason: "mark_failed", failedArchiveId: source.archiveId };
      }
      marked.push(source.archiveId);
    }
    return { merged: true, mergedArchiveId, sourceArchiveIds: marked };
  }

  async #undoMerge(
    store: ArchiveStore,
    sessionId: string,
    mergedArchiveId: string,
    marked: string[],
  ): Promise<void> {
    for (const archiveId of marked) {
      try {
        await store.unmarkArchiveMerged(sessionId, archiveId, mergedArchiveId);
      } catch (error) {
        this.#log.warn({ sessionId, archiveId, err: error }, "archive merge: unmark failed");
      }
    }
    try {
      await store.deleteArchive(sessionId, mergedArchiveId);
    } catch (error) {
      this.#log.warn(
        { sessionId, archiveId: mergedArchiveId, err: error },
        "archive merge: cleanup delete failed",
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Extraction

  async getExtractionState(sessionId: string): Promise<ExtractionState> {
    const buf = await this.#session(sessionId);
    return {
      watermark: buf.extractionWatermark,
      summary: buf.extractionSummary,
      messageCount: buf.messages.length,
      inProgress: buf.extractionInProgress,
      activeCount: buf.activeExtractions,
    };
  }

  /**
   * Marks one background extraction as running (idle eviction refuses the session meanwhile). The
   * returned promise resolves once every overlapping extraction has ended.
   */
  async beginExtraction(sessionId: string): Promise<{ done: Promise<void> }> {
    return { done: (await this.#session(sessionId)).beginExtraction() };
  }

  async endExtraction(sessionId: string): Promise<void> {
    (await this.#session(sessionId)).endExtraction();
  }

  /** Resolves once no extraction of the session is running. */
  async waitForExtractions(sessionId: string): Promise<void> {
    await (await this.#session(sessionId)).whenExtractionsDone();
  }

  /**
   * Hands the messages past the watermark to the extractor. The watermark moves past them before the
   * extractor runs (so an overlapping extraction never takes the same messages); if the extractor
   * throws, it is rewound to the first of them still buffered, to be offered again.
   */
  async extractPending(sessionId: string): Promise<ExtractionOutcome> {
    const buf = await this.#session(sessionId);
    const batch = buf.messages.slice(buf.extractionWatermark);
    if (batch.length === 0) return { status: "nothing_to_extract" };
    buf.extractionWatermark = buf.messages.length;
    void buf.beginExtraction();
    try {
      const result = await this.#extractor.extract({
        sessionId,
        messages: batch,
        summary: buf.extractionSummary,
      });
      const lines = result.memories
        .filter((memory) => memory.action !== "skip")
        .map((memory) => `- [${memory.action}] ${memory.target}`);
      if (lines.length > 0) {
        const appended = `${buf.extractionSummary}\n${lines.join("\n")}`.trim();
        buf.extractionSummary = appended.slice(Math.max(0, appended.length - EXTRACTION_SUMMARY_MAX_CHARS));
      }
      return { status: "extracted", messageCount: batch.length, memories: result.memories };
    } catch (error) {
      buf.rewindWatermarkToIds(new Set(batch.map((message) => message.id)), this.#clock.now());
      this.#log.warn({ sessionId, err: error }, "memory extraction failed; watermark rewound");
      return { status: "failed", messageCount: batch.length, error: errorInfo(error) };
    } finally {
      buf.endExtraction();
    }
  }

  /** Removes archived messages by id; messages added since stay. Returns how many were removed. */
  async removeMessagesById(sessionId: string, messageIds: Iterable<string>): Promise<number> {
    return (await this.#session(sessionId)).removeMessagesById(new Set(messageIds), this.#clock.now());
  }

  /** Rewinds the watermark to the first of `messageIds` still buffered; false when nothing moved. */
  async rewindWatermarkToIds(sessionId: string, messageIds: Iterable<string>): Promise<boolean> {
    return (await this.#session(sessionId)).rewindWatermarkToIds(new Set(messageIds), this.#clock.now());
  }

  /** Sessions in memory with messages not yet handed to extraction. */
  getPendingSessionIds(): string[] {
    return [...this.#sessions.values()].filter((buf) => buf.unextractedCount > 0).map((buf) => buf.sessionId);
  }

  // ---------------------------------------------------------------------------------------------
  // Compaction prepare tokens

  /** Issues a token bound to the current message count and watermark (replacing any earlier one). */
  async issueCompactionToken(sessionId: string, archiveId = ""): Promise<string> {
    const buf = await this.#session(sessionId);
    const token = generateCompactionToken();
    buf.compaction = {
      token,
      archiveId,
      messageCount: buf.messages.length,
      watermark: buf.extractionWatermark,
      issuedAt: this.#clock.now(),
    };
    return token;
  }

  /**
   * The pending token while it is fresh and the buffer is unchanged since it was issued; a stale or
   * outdated token is cleared and `undefined` returned.
   */
  async getCompactionToken(
    sessionId: string,
    ttlMs = this.#tokenTtlMs,
  ): Promise<CompactionTokenState | undefined> {
    const buf = await this.#session(sessionId);
    const prepared = buf.compaction;
    if (!prepared) return undefined;
    if (!this.#fresh(prepared.issuedAt, ttlMs) || !this.#unchangedSince(buf)) {
      buf.compaction = null;
      return undefined;
    }
    return { token: prepared.token, archiveId: prepared.archiveId };
  }

  async getCompactionArchiveId(sessionId: string): Promise<string> {
    return (await this.#session(sessionId)).compaction?.archiveId ?? "";
  }

  /**
   * Consumes the token: true exactly once, for the matching token while fresh and while the buffer
   * is unchanged. An expired token is cleared whoever asks; a wrong token leaves a valid one in place.
   */
  async consumeCompactionToken(sessionId: string, token: string, ttlMs = this.#tokenTtlMs): Promise<boolean> {
    const buf = await this.#session(sessionId);
    const prepared = buf.compaction;
    if (!prepared) return false;
    if (!this.#fresh(prepared.issuedAt, ttlMs)) {
      buf.compaction = null;
      return false;
    }
    if (!token || token !== prepared.token || !this.#unchangedSince(buf)) return false;
    buf.compaction = null;
    return true;
  }

  async clearCompactionToken(sessionId: string): Promise<void> {
    (await this.#session(sessionId)).compaction = null;
  }

  #fresh(issuedAt: number, ttlMs: number): boolean {
    return ttlMs > 0 && this.#clock.now() - issuedAt < ttlMs;
  }

  #unchangedSince(buf: SessionBuffer): boolean {
    const prepared = buf.compaction;
    return (
      prepared !== null &&
      buf.messages.length === prepared.messageCount &&
      buf.extractionWatermark === prepared.watermark
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Durable session state

  async getSessionState(sessionId: string): Promise<SessionStateRecord> {
    return cloneSessionState((await this.#session(sessionId)).state);
  }

  /** Sets the objective and/or blockers; fields left out stay. */
  async updateTaskState(
    sessionId: string,
    update: { readonly objective?: string | null; readonly blockers?: readonly string[] },
  ): Promise<SessionStateRecord> {
    const buf = await this.#session(sessionId);
    if (update.objective !== undefined) buf.state.task.objective = update.objective?.trim() || null;
    if (update.blockers !== undefined)
      buf.state.task.blockers = update.blockers.map((b) => b.trim()).filter(Boolean);
    return cloneSessionState(buf.state);
  }

  async addCommitment(
    sessionId: string,
    commitment: {
      readonly content: string;
      readonly kind: SessionCommitmentKind;
      readonly status?: SessionCommitmentStatus;
    },
  ): Promise<SessionCommitment> {
    const content = commitment.content?.trim();
    if (!content) throw new InvalidArgumentError("content", "must be a non-empty string");
    const buf = await this.#session(sessionId);
    const added: SessionCommitment = Object.freeze({
      content,
      kind: commitment.kind,
      status: commitment.status ?? "open",
      createdAt: this.#clock.now(),
    });
    buf.state.commitments.push(added);
    return added;
  }

  /**
   * Persists the session's durable state (window promoted into it first). False without a state
   * store, for a session not in memory, or when the store failed (logged). Saves of one session run
   * one after another, each writing the state as it is when its turn comes, so the newest wins.
   */
  saveSessionState(sessionId: string): Promise<boolean> {
    const store = this.#stateStore;
    if (!store) return Promise.resolve(false);
    const previous = this.#saveChains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(() => this.#saveNow(store, sessionId));
    this.#saveChains.set(sessionId, next);
    const cleanup = () => {
      if (this.#saveChains.get(sessionId) === next) this.#saveChains.delete(sessionId);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  async #saveNow(store: SessionStateStore, sessionId: string): Promise<boolean> {
    const buf = this.#sessions.get(sessionId);
    if (!buf) return false;
    const now = this.#clock.now();
    promoteWindowState(buf.state, buf.window, now);
    try {
      await store.save({ sessionId, payload: this.#payload(buf), savedAt: now });
      return true;
    } catch (error) {
      this.#log.warn({ sessionId, err: error }, "saving session state failed");
      return false;
    }
  }

  #payload(buf: SessionBuffer): JsonObject {
    const { lastAccessedAt: _transient, ...window } = buf.window;
    const identity: JsonObject = {};
    for (const [key, value] of Object.entries(buf.meta.identity))
      if (typeof value === "string") identity[key] = value;
    return {
      version: SESSION_STATE_VERSION,
      meta: {
        identity,
        createdAt: buf.meta.createdAt,
        updatedAt: buf.meta.updatedAt,
        commitCount: buf.meta.commitCount,
        lastCommitAt: buf.meta.lastCommitAt,
      },
      window: { ...window },
      extractionSummary: buf.extractionSummary,
      task: { objective: buf.state.task.objective, blockers: [...buf.state.task.blockers] },
      commitments: buf.state.commitments.map((c) => ({ ...c })),
    };
  }

  async #load(buf: SessionBuffer): Promise<void> {
    const store = this.#stateStore;
    if (!store) return;
    try {
      const snapshot = await store.load(buf.sessionId);
      if (!snapshot) return;
      this.#restore(buf, snapshot.payload);
    } catch (error) {
      // A session with unreadable saved state still works; it starts from empty state.
      this.#log.warn({ sessionId: buf.sessionId, err: error }, "loading session state failed");
    }
  }

  #restore(buf: SessionBuffer, payload: JsonObject): void {
    const meta = payload.meta;
    if (typeof meta === "object" && meta !== null && !Array.isArray(meta)) {
      const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
      buf.meta.createdAt = num(meta.createdAt) ?? buf.meta.createdAt;
      buf.meta.commitCount = num(meta.commitCount) ?? buf.meta.commitCount;
      buf.meta.lastCommitAt = num(meta.lastCommitAt) ?? buf.meta.lastCommitAt;
      const identity = meta.identity;
      if (Object.keys(buf.meta.identity).length === 0 && typeof identity === "object" && identity !== null) {
        const restored: Record<string, string> = {};
        for (const key of ["accountId", "userId", "agentId"]) {
          const value = (identity as Record<string, unknown>)[key];
          if (typeof value === "string") restored[key] = value;
        }
        buf.meta.identity = restored;
      }
    }
    buf.window = windowStateFromJson(payload.window, buf.window.lastAccessedAt);
    // The counters measured a buffer that did not survive (messages are not persisted): measured
    // against today's buffer they would hold `shouldCompress` off until it outgrew the old one.
    buf.window.turnCountAtLastCompress = Math.min(buf.window.turnCountAtLastCompress, buf.turnCount);
    buf.window.tokenCountAtLastCompress = Math.min(buf.window.tokenCountAtLastCompress, buf.pendingTokens);
    buf.window.sessionStateSyncTurnCount = Math.min(buf.window.sessionStateSyncTurnCount, buf.turnCount);
    if (typeof payload.extractionSummary === "string") buf.extractionSummary = payload.extractionSummary;
    buf.state = sessionStateFromJson(payload);
    if (hasSessionState(buf.state)) applySessionStateToWindow(buf.state, buf.window, buf.turnCount);
  }

  // ---------------------------------------------------------------------------------------------
  // Idle eviction

  /**
   * Drops sessions idle for more than `maxIdleMs`, saving their state first. A session is kept while
   * a commit or an extraction runs, while it has messages not yet extracted, while its state is still
   * loading, when it was touched during the save, and when the save failed.
   */
  async evictIdleSessions(maxIdleMs: number): Promise<string[]> {
    if (!(maxIdleMs > 0)) return [];
    const now = this.#clock.now();
    const idle = (buf: SessionBuffer) => now - buf.window.lastAccessedAt > maxIdleMs;
    const candidates = [...this.#sessions.values()].filter((buf) => idle(buf) && !this.#busy(buf));
    const evicted: string[] = [];
    for (const buf of candidates) {
      const touched = buf.window.lastAccessedAt;
      if (this.#stateStore && !(await this.saveSessionState(buf.sessionId))) continue;
      if (this.#sessions.get(buf.sessionId) !== buf) continue;
      if (this.#busy(buf) || buf.window.lastAccessedAt !== touched) continue;
      this.#sessions.delete(buf.sessionId);
      evicted.push(buf.sessionId);
    }
    return evicted;
  }

  #busy(buf: SessionBuffer): boolean {
    return (
      buf.commitInProgress || buf.extractionInProgress || buf.unextractedCount > 0 || this.#loading.has(buf)
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Context assembly

  /**
   * What of the session fits in `tokenBudget` estimated tokens, filled in order of value: the newest
   * active messages (the live conversation; contiguous, so no gap in the middle), then the latest
   * archive's overview (cut to its newest part if needed — it already folds in older archives), then
   * older archives' abstracts, whole, newest first. An unreadable archive store leaves the archive
   * parts empty rather than failing the call.
   */
  async getContext(sessionId: string, tokenBudget: number): Promise<SessionBufferContext> {
    if (!Number.isInteger(tokenBudget) || tokenBudget < 0) {
      throw new InvalidArgumentError("tokenBudget", "must be an integer >= 0");
    }
    const buf = await this.#session(sessionId);
    const active = [...buf.messages];
    const pendingTokens = buf.pendingTokens;
    let archives: ArchiveSummary[] = [];
    try {
      archives = await this.#listArchives(sessionId);
    } catch (error) {
      this.#log.warn({ sessionId, err: error }, "context: listing archives failed");
    }
    let remaining = tokenBudget;
    let firstKept = active.length;
    while (firstKept > 0) {
      const cost = active[firstKept - 1]?.estimatedTokens ?? 0;
      if (cost > remaining) break;
      remaining -= cost;
      firstKept -= 1;
    }
    const messages = active.slice(firstKept);
    const fullOverview = archives[0]?.overview ?? "";
    let overview = fullOverview;
    if (estimateTokens(overview) > remaining) overview = overview.slice(overview.length - remaining * 4);
    remaining -= estimateTokens(overview);
    const refs: ContextArchiveRef[] = [];
    for (const archive of archives) {
      const cost = estimateTokens(archive.abstract);
      if (cost > remaining) break;
      remaining -= cost;
      refs.push({ archiveId: archive.archiveId, abstract: archive.abstract, createdAt: archive.createdAt });
    }
    return {
      sessionId,
      latestArchiveOverview: overview,
      archives: refs,
      messages,
      estimatedTokens: tokenBudget - remaining,
      tokenBudget,
      pendingTokens,
      activeMessageCount: active.length,
      archiveCount: archives.length,
      omittedMessageCount: firstKept,
      omittedArchiveCount: archives.length - refs.length,
      overviewTruncated: overview.length < fullOverview.length,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  /** The session's buffer, created (and its saved state loaded, once) on first access; touches it. */
  async #session(sessionId: string, identity?: SessionIdentity): Promise<SessionBuffer> {
    assertSafeId("session id", sessionId);
    for (;;) {
      let buf = this.#sessions.get(sessionId);
      if (!buf) {
        buf = new SessionBuffer(sessionId, this.#clock.now(), identity ? { ...identity } : {});
        this.#sessions.set(sessionId, buf);
        if (this.#stateStore) {
          const created = buf;
          const loading = this.#load(created).finally(() => this.#loading.delete(created));
          this.#loading.set(created, loading);
        }
      }
      const loading = this.#loading.get(buf);
      if (loading) await loading;
      // Removed or evicted while we waited: use the session's current buffer instead.
      if (this.#sessions.get(sessionId) !== buf) continue;
      buf.window.lastAccessedAt = this.#clock.now();
      return buf;
    }
  }

  #info(buf: SessionBuffer): SessionBufferInfo {
    return {
      sessionId: buf.sessionId,
      identity: { ...buf.meta.identity },
      pendingTokens: buf.pendingTokens,
      messageCount: buf.messages.length,
      turnCount: buf.turnCount,
      commitCount: buf.meta.commitCount,
      lastCommitAt: buf.meta.lastCommitAt,
      commitInProgress: buf.commitInProgress,
      extractionWatermark: buf.extractionWatermark,
      createdAt: buf.meta.createdAt,
      updatedAt: buf.meta.updatedAt,
      lastAccessedAt: buf.window.lastAccessedAt,
    };
  }
}
