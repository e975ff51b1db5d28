import { ConflictError, NotFoundError, SessionNotFoundError } from "../errors/index.js";
import { type Clock, systemClock } from "../gateway/clock.js";
import { assertSafeId } from "../gateway/safe-id.js";
import { prepareTranscriptMessage } from "./transcript-message.js";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type NewTranscriptMessage,
  type TranscriptMessage,
} from "./transcript-store.js";
import {
  type AppendWebMessagesOptions,
  type AppendWebMessagesResult,
  assertTruncateOptions,
  assertWebProjectFields,
  assertWebSessionFields,
  DEFAULT_PROFILE,
  deriveWebTitle,
  EMPTY_SESSION_GRACE_MS,
  type ImportWebSessionOptions,
  type ListWebSessionsOptions,
  type NewWebProject,
  type NewWebSession,
  newWebSessionId,
  type TruncateWebMessagesOptions,
  titleSourceText,
  UNTITLED_TITLE,
  WEB_SOURCE,
  type WebProject,
  type WebProjectPatch,
  type WebSession,
  type WebSessionPatch,
  type WebSessionStore,
  type WebSessionSummary,
  webListPage,
} from "./web-session-store.js";

export interface InMemoryWebSessionStoreProps {
  readonly clock?: Clock;
  /** Id generator for sessions and projects created without one (default: 12 random hex digits). */
  readonly newId?: () => string;
  /** Largest message accepted, as in the transcript stores (default 1 MiB). */
  readonly maxMessageBytes?: number;
}

/** A session as the reference store keeps it: transcript columns plus web metadata. */
interface StoredSession {
  id: string;
  source: string;
  title: string | null;
  workspace: string | null;
  model: string | null;
  personality: string | null;
  profile: string | null;
  projectId: string | null;
  pinned: boolean;
  archived: boolean;
  webVisible: boolean;
  deleted: boolean;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  createdAt: number;
  updatedAt: number;
  messages: TranscriptMessage[];
}

/** A session that exists outside the web UI (CLI, gateway), for {@link InMemoryWebSessionStore.addTranscriptSession}. */
export interface ExternalTranscriptSession {
  readonly id: string;
  readonly source: string;
  readonly title?: string | null;
  readonly model?: string | null;
  readonly profile?: string | null;
  readonly createdAt?: number;
  readonly messages?: readonly NewTranscriptMessage[];
}

const isUntitled = (title: string | null): boolean => title === null || title === UNTITLED_TITLE;

/**
 * The reference {@link WebSessionStore}: everything in process memory, every method atomic (no
 * `await` between its reads and writes). Sessions created outside the web UI are added with
 * {@link addTranscriptSession}, standing in for the shared transcript tables of the database store.
 */
export class InMemoryWebSessionStore implements WebSessionStore {
  readonly #sessions = new Map<string, StoredSession>();
  readonly #projects = new Map<string, WebProject>();
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #maxMessageBytes: number;
  #nextMessageId = 1;

  constructor(props: InMemoryWebSessionStoreProps = {}) {
    this.#clock = props.clock ?? systemClock;
    this.#newId = props.newId ?? newWebSessionId;
    this.#maxMessageBytes = props.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Adds a transcript session that is not web-visible until imported (a CLI or gateway session). */
  addTranscriptSession(input: ExternalTranscriptSession): void {
    assertSafeId("session id", input.id);
    const now = input.createdAt ?? this.#clock.now();
    const session: StoredSession = {
      id: input.id,
      source: input.source,
      title: input.title ?? null,
      workspace: null,
      model: input.model ?? null,
      personality: null,
      profile: input.profile ?? null,
      projectId: null,
      pinned: false,
      archived: false,
      webVisible: false,
      deleted: false,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      createdAt: now,
      updatedAt: now,
      messages: [],
    };
    for (const message of input.messages ?? []) this.#pushMessage(session, message, now);
    this.#sessions.set(input.id, session);
  }

  #pushMessage(session: StoredSession, message: NewTranscriptMessage, now: number): TranscriptMessage {
    const stored: TranscriptMessage = Object.freeze({
      id: this.#nextMessageId++,
      sessionId: session.id,
      role: message.role,
      content: message.content ?? null,
      parts: message.parts ?? null,
      toolName: message.toolName ?? null,
      toolCalls: message.toolCalls ?? null,
      toolResults: message.toolResults ?? null,
      toolCallId: message.toolCallId ?? null,
      reasoning: message.reasoning ?? null,
      reasoningDetails: message.reasoningDetails ?? null,
      platformMessageId: message.platformMessageId ?? null,
      observed: message.observed ?? false,
      active: true,
      compacted: false,
      createdAt: message.createdAt ?? now,
    });
    session.messages.push(stored);
    session.inputTokens += message.usage?.inputTokens ?? 0;
    session.outputTokens += message.usage?.outputTokens ?? 0;
    session.costUsd += message.usage?.costUsd ?? 0;
    return stored;
  }

  #summary(session: StoredSession): WebSessionSummary {
    const active = session.messages.filter((message) => message.active);
    const titles = active
      .filter((message) => message.role === "user")
      .map((message) => deriveWebTitle(titleSourceText(message.content, message.parts)));
    const derived = titles.find((title) => title !== null) ?? null;
    const explicit = !isUntitled(session.title);
    return {
      id: session.id,
      title: (explicit ? session.title : derived) ?? UNTITLED_TITLE,
      hasExplicitTitle: explicit,
      source: session.source,
      workspace: session.workspace,
      model: session.model,
      personality: session.personality,
      profile: session.profile || DEFAULT_PROFILE,
      projectId: session.projectId,
      pinned: session.pinned,
      archived: session.archived,
      messageCount: active.length,
      inputTokens: session.inputTokens,
      outputTokens: session.outputTokens,
      costUsd: session.costUsd,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
    };
  }

  #visible(sessionId: string): StoredSession | undefined {
    const session = this.#sessions.get(sessionId);
    return session?.webVisible && !session.deleted ? session : undefined;
  }

  #require(sessionId: string): StoredSession {
    assertSafeId("session id", sessionId);
    const session = this.#visible(sessionId);
    if (!session) throw new SessionNotFoundError(sessionId);
    return session;
  }

  #assertTitleFree(title: string | null | undefined, ownId: string): void {
    if (title == null) return;
    for (const other of this.#sessions.values()) {
      if (other.id !== ownId && !other.deleted && other.title === title) {
        throw new ConflictError(`Title ${JSON.stringify(title)} is already used by another session`, {
          title,
        });
      }
    }
  }

  #assertProject(projectId: string | null | undefined): void {
    if (projectId != null && !this.#projects.has(projectId)) throw new NotFoundError("project", projectId);
  }

  async list(options: ListWebSessionsOptions = {}): Promise<WebSessionSummary[]> {
    const { limit, offset } = webListPage(options);
    const hideBefore = this.#clock.now() - EMPTY_SESSION_GRACE_MS;
    return [...this.#sessions.values()]
      .filter((session) => session.webVisible && !session.deleted)
      .filter((session) => options.includeArchived || !session.archived)
      .filter(
        (session) =>
          options.profile === undefined || (session.profile || DEFAULT_PROFILE) === options.profile,
      )
      .filter((session) => options.projectId === undefined || session.projectId === options.projectId)
      .filter(
        (session) =>
          !(
            isUntitled(session.title) &&
            session.messages.every((message) => !message.active) &&
            session.updatedAt < hideBefore
          ),
      )
      .sort(
        (a, b) =>
          Number(b.pinned) - Number(a.pinned) ||
          b.updatedAt - a.updatedAt ||
          (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
      )
      .slice(offset, offset + limit)
      .map((session) => this.#summary(session));
  }

  async getSummary(sessionId: string): Promise<WebSessionSummary | undefined> {
    assertSafeId("session id", sessionId);
    const session = this.#visible(sessionId);
    return session ? this.#summary(session) : undefined;
  }

  async get(sessionId: string): Promise<WebSession | undefined> {
    assertSafeId("session id", sessionId);
    const session = this.#visible(sessionId);
    if (!session) return undefined;
    return { ...this.#summary(session), messages: session.messages.filter((message) => message.active) };
  }

  async create(input: NewWebSession = {}): Promise<WebSessionSummary> {
    const id = input.id ?? this.#newId();
    assertSafeId("session id", id);
    assertWebSessionFields(input);
    if (this.#sessions.has(id))
      throw new ConflictError(`Session ${JSON.stringify(id)} already exists`, { id });
    this.#assertTitleFree(input.title, id);
    this.#assertProject(input.projectId);
    const now = this.#clock.now();
    const session: StoredSession = {
      id,
      source: WEB_SOURCE,
      title: input.title ?? null,
      workspace: input.workspace ?? null,
      model: input.model ?? null,
      personality: input.personality ?? null,
      profile: input.profile ?? null,
      projectId: input.projectId ?? null,
      pinned: false,
      archived: false,
      webVisible: true,
      deleted: false,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      createdAt: now,
      updatedAt: now,
      messages: [],
    };
    this.#sessions.set(id, session);
    return this.#summary(session);
  }

  async updateMetadata(sessionId: string, patch: WebSessionPatch): Promise<WebSessionSummary> {
    assertWebSessionFields(patch);
    const session = this.#require(sessionId);
    this.#assertTitleFree(patch.title, sessionId);
    this.#assertProject(patch.projectId);
    for (const key of ["title", "workspace", "model", "personality", "projectId"] as const) {
      if (patch[key] !== undefined) session[key] = patch[key];
    }
    if (patch.pinned !== undefined) session.pinned = patch.pinned;
    if (patch.archived !== undefined) session.archived = patch.archived;
    session.updatedAt = this.#clock.now();
    return this.#summary(session);
  }

  async delete(sessionId: string): Promise<void> {
    const session = this.#require(sessionId);
    session.deleted = true;
    session.updatedAt = this.#clock.now();
  }

  async appendMessages(
    sessionId: string,
    messages: readonly NewTranscriptMessage[],
    options: AppendWebMessagesOptions = {},
  ): Promise<AppendWebMessagesResult> {
    // The transcript stores' validation, so every implementation rejects the same input the same way.
    const now = this.#clock.now();
    for (const message of messages) prepareTranscriptMessage(message, this.#maxMessageBytes, now);
    const session = this.#require(sessionId);
    const count = session.messages.filter((message) => message.active).length;
    if (options.expectedCount !== undefined && options.expectedCount !== count) {
      throw new ConflictError(
        `Session ${JSON.stringify(sessionId)} has ${count} messages, the caller expected ${options.expectedCount}`,
        { sessionId, count, expectedCount: options.expectedCount },
      );
    }
    const appended = messages.map((message) => this.#pushMessage(session, message, now));
    session.updatedAt = now;
    return { appended, summary: this.#summary(session) };
  }

  async truncateMessages(sessionId: string, options: TruncateWebMessagesOptions): Promise<number> {
    assertTruncateOptions(options);
    const session = this.#require(sessionId);
    const active = session.messages.filter((message) => message.active);
    if (active.length !== options.expectedCount) {
      throw new ConflictError(
        `Session ${JSON.stringify(sessionId)} has ${active.length} messages, the caller expected ${options.expectedCount}`,
        { sessionId, count: active.length, expectedCount: options.expectedCount },
      );
    }
    const dropped = new Set(active.slice(options.keep).map((message) => message.id));
    if (dropped.size === 0) return active.length;
    session.messages = session.messages.map((message) =>
      dropped.has(message.id) ? Object.freeze({ ...message, active: false }) : message,
    );
    session.updatedAt = this.#clock.now();
    return active.length - dropped.size;
  }

  async importSession(sessionId: string, options: ImportWebSessionOptions = {}): Promise<WebSessionSummary> {
    assertSafeId("session id", sessionId);
    assertWebSessionFields(options);
    const session = this.#sessions.get(sessionId);
    if (!session || session.deleted) throw new SessionNotFoundError(sessionId);
    if (session.title === null && options.title !== undefined) {
      this.#assertTitleFree(options.title, sessionId);
      session.title = options.title;
    }
    session.profile ??= options.profile ?? null;
    session.workspace ??= options.workspace ?? null;
    // Import keeps `updatedAt`: an old CLI session must not jump to the top of the list.
    session.webVisible = true;
    return this.#summary(session);
  }

  async listProjects(): Promise<WebProject[]> {
    return [...this.#projects.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async createProject(input: NewWebProject): Promise<WebProject> {
    assertWebProjectFields(input, { requireName: true });
    const id = input.id ?? this.#newId();
    assertSafeId("project id", id);
    if (this.#projects.has(id))
      throw new ConflictError(`Project ${JSON.stringify(id)} already exists`, { id });
    const now = this.#clock.now();
    const project: WebProject = {
      id,
      name: input.name,
      color: input.color ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.#projects.set(id, project);
    return project;
  }

  async updateProject(projectId: string, patch: WebProjectPatch): Promise<WebProject> {
    assertSafeId("project id", projectId);
    assertWebProjectFields(patch, { requireName: false });
    const current = this.#projects.get(projectId);
    if (!current) throw new NotFoundError("project", projectId);
    const next: WebProject = {
      ...current,
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.color === undefined ? {} : { color: patch.color }),
      updatedAt: this.#clock.now(),
    };
    this.#projects.set(projectId, next);
    return next;
  }

  async deleteProject(projectId: string): Promise<boolean> {
    assertSafeId("project id", projectId);
    if (!this.#projects.delete(projectId)) return false;
    for (const session of this.#sessions.values())
      if (session.projectId === projectId) session.projectId = null;
    return true;
  }
}
