/**
 * Web session store port: what the web UI reads and writes (seed 002). A web session is a transcript
 * session (`TranscriptStore` rows) made visible to the web UI, plus web metadata (workspace,
 * personality, project). Sessions started elsewhere (CLI, gateway) are brought in with
 * `importSession`, which flags the existing transcript instead of copying it.
 *
 * The save path is append-only by construction: there is no "write the whole message list" method,
 * so a save made from a copy loaded without its messages can never wipe the transcript (the seed-002
 * bug, where a metadata-only load cached with an empty message list was later saved over the file).
 * The only destructive transcript operation, {@link WebSessionStore.truncateMessages}, is named as such
 * and guarded by the caller's expected message count.
 *
 * Implemented by `InMemoryWebSessionStore` (reference) and `@engram/store`'s `PostgresWebSessionStore`;
 * every implementation must pass the web-session-store conformance suite. Times are epoch ms.
 */
import { InvalidArgumentError } from "../errors/index.js";
import type { NewTranscriptMessage, TranscriptMessage } from "./transcript-store.js";

/** DI token of the host's `WebSessionStore`. */
export const WEB_SESSION_STORE: unique symbol = Symbol.for("engram.core.WebSessionStore");

/** Title shown for a session that has neither an explicit title nor a user message yet. */
export const UNTITLED_TITLE = "Untitled";
/** Profile attributed to sessions that carry none (created before profiles existed). */
export const DEFAULT_PROFILE = "default";
/** An empty untitled session stays listed this long after its last update, so a new one is visible. */
export const EMPTY_SESSION_GRACE_MS = 60_000;
/** Longest title derived from the first user message. */
export const DERIVED_TITLE_MAX_CHARS = 64;
/** Transcript `source` of sessions created by the web UI. */
export const WEB_SOURCE = "web";

/** What the sidebar shows: metadata only, never message bodies. */
export interface WebSessionSummary {
  readonly id: string;
  /** The explicit title, else derived from the first user message, else {@link UNTITLED_TITLE}. */
  readonly title: string;
  /** True when `title` was set explicitly (rename, create, import) rather than derived. */
  readonly hasExplicitTitle: boolean;
  /** Where the session was started: `web`, `cli`, `telegram`, ... */
  readonly source: string;
  readonly workspace: string | null;
  readonly model: string | null;
  readonly personality: string | null;
  /** Never empty: sessions without one report {@link DEFAULT_PROFILE}. */
  readonly profile: string;
  readonly projectId: string | null;
  readonly pinned: boolean;
  readonly archived: boolean;
  readonly messageCount: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface WebSession extends WebSessionSummary {
  /** Active messages, in order. */
  readonly messages: readonly TranscriptMessage[];
}

export interface NewWebSession {
  /** Generated (12 hex digits) when omitted. */
  readonly id?: string;
  readonly title?: string | null;
  readonly workspace?: string | null;
  readonly model?: string | null;
  readonly personality?: string | null;
  readonly profile?: string | null;
  readonly projectId?: string | null;
}

/** Metadata a caller may change; only the fields present are written. Never touches messages. */
export interface WebSessionPatch {
  readonly title?: string | null;
  readonly workspace?: string | null;
  readonly model?: string | null;
  readonly personality?: string | null;
  readonly pinned?: boolean;
  readonly archived?: boolean;
  readonly projectId?: string | null;
}

export interface ListWebSessionsOptions {
  /** Only this profile's sessions (sessions without a profile count as {@link DEFAULT_PROFILE}). */
  readonly profile?: string;
  /** Only sessions of this project; `null` for sessions in no project. */
  readonly projectId?: string | null;
  /** Include archived sessions (default false). */
  readonly includeArchived?: boolean;
  /** Default 50, at most 500. */
  readonly limit?: number;
  readonly offset?: number;
}

export interface AppendWebMessagesOptions {
  /**
   * Optimistic check: append only if the session has exactly this many active messages, else throw
   * `CONFLICT` and write nothing (two tabs saving the same turn).
   */
  readonly expectedCount?: number;
}

export interface AppendWebMessagesResult {
  /** The messages written, with their ids, in order. */
  readonly appended: readonly TranscriptMessage[];
  readonly summary: WebSessionSummary;
}

export interface TruncateWebMessagesOptions {
  /** Active messages to keep (the first `keep`). */
  readonly keep: number;
  /** The active message count the caller saw; a mismatch throws `CONFLICT` and changes nothing. */
  readonly expectedCount: number;
}

export interface ImportWebSessionOptions {
  /** Title to set when the session has none. */
  readonly title?: string;
  /** Profile to set when the session has none. */
  readonly profile?: string;
  readonly workspace?: string;
}

export interface WebProject {
  readonly id: string;
  readonly name: string;
  readonly color: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewWebProject {
  /** Generated when omitted. */
  readonly id?: string;
  readonly name: string;
  readonly color?: string | null;
}

export interface WebProjectPatch {
  readonly name?: string;
  readonly color?: string | null;
}

/**
 * The web UI's sessions and projects. Guarantees every implementation keeps:
 *
 * - `list` and `getSummary` never read message bodies; a page costs a bounded number of queries
 *   whatever the number of sessions.
 * - Listing order is pinned first, then most recently updated (ties by id). Empty sessions without an
 *   explicit title are hidden once `EMPTY_SESSION_GRACE_MS` has passed since their last update
 *   (judged by the injected clock). Deleted sessions never appear.
 * - No metadata write changes messages; appends never remove or reorder existing messages. Only
 *   `truncateMessages` removes messages, and only when the caller's expected count matches.
 * - Unknown sessions throw `SESSION_NOT_FOUND` from writes and return `undefined` from reads; bad input
 *   throws `INVALID_ID` / `INVALID_ARGUMENT` and writes nothing.
 */
export interface WebSessionStore {
  list(options?: ListWebSessionsOptions): Promise<WebSessionSummary[]>;
  /** Metadata only; `undefined` for unknown, deleted or not web-visible sessions. */
  getSummary(sessionId: string): Promise<WebSessionSummary | undefined>;
  /** Metadata and active messages. */
  get(sessionId: string): Promise<WebSession | undefined>;

  create(input?: NewWebSession): Promise<WebSessionSummary>;
  /** Writes only the fields present; bumps `updatedAt`. A title taken by another live session: `CONFLICT`. */
  updateMetadata(sessionId: string, patch: WebSessionPatch): Promise<WebSessionSummary>;
  /** Soft delete: hidden everywhere, messages kept until the transcript store prunes them. */
  delete(sessionId: string): Promise<void>;

  /** Appends a turn's messages in one transaction; the only way messages are saved. */
  appendMessages(
    sessionId: string,
    messages: readonly NewTranscriptMessage[],
    options?: AppendWebMessagesOptions,
  ): Promise<AppendWebMessagesResult>;
  /**
   * Destructive, for undo/retry: soft-deletes every active message after the first `keep`. Throws
   * `CONFLICT` unless the session has exactly `expectedCount` active messages. Returns the new count.
   */
  truncateMessages(sessionId: string, options: TruncateWebMessagesOptions): Promise<number>;

  /**
   * Makes an existing transcript session (CLI, gateway) visible to the web UI without copying or
   * touching its messages or `updatedAt`. Idempotent. Unknown sessions throw `SESSION_NOT_FOUND`.
   */
  importSession(sessionId: string, options?: ImportWebSessionOptions): Promise<WebSessionSummary>;

  listProjects(): Promise<WebProject[]>;
  createProject(input: NewWebProject): Promise<WebProject>;
  updateProject(projectId: string, patch: WebProjectPatch): Promise<WebProject>;
  /** Removes the project; its sessions move to no project. `false` when it did not exist. */
  deleteProject(projectId: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------------
// Rules shared by every implementation.
// ---------------------------------------------------------------------------------------------------

export const DEFAULT_WEB_LIST_LIMIT = 50;
export const MAX_WEB_LIST_LIMIT = 500;
const MAX_TITLE_LENGTH = 200;
const MAX_FIELD_LENGTH = 4096;

/** A title derived from the first user message's text: trimmed, cut to {@link DERIVED_TITLE_MAX_CHARS}. */
export function deriveWebTitle(firstUserText: string | null | undefined): string | null {
  const text = firstUserText?.trim();
  return text ? text.slice(0, DERIVED_TITLE_MAX_CHARS) : null;
}

/**
 * The text a title is derived from: `content` when it is set, else the `text` parts joined by spaces
 * (messages with images and text arrive as parts). Implementations must agree on this rule.
 */
export function titleSourceText(content: string | null, parts: unknown): string | null {
  if (content !== null) return content;
  if (!Array.isArray(parts)) return null;
  const texts = parts
    .filter(
      (part): part is { type: "text"; text: string } =>
        typeof part === "object" && part !== null && part.type === "text" && typeof part.text === "string",
    )
    .map((part) => part.text);
  return texts.length > 0 ? texts.join(" ") : null;
}

/** A fresh web session id: 12 lower-case hex digits (path-safe, as the seed's). */
export function newWebSessionId(): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/** Validates list options and returns the effective page bounds. */
export function webListPage(options: ListWebSessionsOptions): { limit: number; offset: number } {
  const { limit = DEFAULT_WEB_LIST_LIMIT, offset = 0 } = options;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArgumentError("limit", "must be a positive integer");
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidArgumentError("offset", "must be a non-negative integer");
  return { limit: Math.min(limit, MAX_WEB_LIST_LIMIT), offset };
}

function checkText(argument: string, value: unknown, max: number, nullable = true): void {
  if (value === undefined || (nullable && value === null)) return;
  if (typeof value !== "string" || value.trim().length === 0 || value.length > max) {
    throw new InvalidArgumentError(argument, `must be a non-empty string of at most ${max} characters`);
  }
}

/** Throws `INVALID_ARGUMENT` when a metadata field of a new session or a patch is malformed. */
export function assertWebSessionFields(input: WebSessionPatch & NewWebSession): void {
  checkText("title", input.title, MAX_TITLE_LENGTH);
  checkText("workspace", input.workspace, MAX_FIELD_LENGTH);
  checkText("model", input.model, 256);
  checkText("personality", input.personality, 256);
  checkText("profile", input.profile, 64);
  checkText("projectId", input.projectId, 64);
  for (const flag of ["pinned", "archived"] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== "boolean") {
      throw new InvalidArgumentError(flag, "must be a boolean");
    }
  }
}

/** Throws `INVALID_ARGUMENT` when a project name or color is malformed. */
export function assertWebProjectFields(
  input: WebProjectPatch,
  { requireName }: { requireName: boolean },
): void {
  if (requireName && input.name === undefined) throw new InvalidArgumentError("name", "is required");
  checkText("name", input.name, MAX_TITLE_LENGTH, false);
  checkText("color", input.color, 64);
}

/** Validates the truncate guard. */
export function assertTruncateOptions(options: TruncateWebMessagesOptions): void {
  if (!Number.isInteger(options.keep) || options.keep < 0) {
    throw new InvalidArgumentError("keep", "must be a non-negative integer");
  }
  if (!Number.isInteger(options.expectedCount) || options.expectedCount < 0) {
    throw new InvalidArgumentError("expectedCount", "must be a non-negative integer");
  }
}
