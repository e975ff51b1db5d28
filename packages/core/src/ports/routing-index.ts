/**
 * Routing index port: which session a gateway session key (`agent:main:telegram:dm:42`) currently
 * routes to, plus the per-key flags the router consumes (seed 004 `sessions.json` / `SessionEntry`).
 * It is NOT the session list: transcripts live in the transcript store; this maps keys to ids.
 *
 * Implemented by `InMemoryRoutingIndex` (reference, one process) and `@engram/store`'s
 * `PostgresRoutingIndex` (many routers). Every implementation must pass the routing-index
 * conformance suite. Times are epoch milliseconds.
 */
import { InvalidArgumentError } from "../errors/index.js";
import { type ModelOverride, sanitizeModelOverride } from "../gateway/model-override.js";
import { assertSafeId } from "../gateway/safe-id.js";
import { parseSessionSource, type SessionSource } from "../gateway/session-source.js";

/** DI token of the host's `RoutingIndex` (`container.register<RoutingIndex>(ROUTING_INDEX, ...)`). */
export const ROUTING_INDEX: unique symbol = Symbol.for("engram.core.RoutingIndex");

/** Resume reason written by {@link RoutingIndex.markRecentlyActiveResumable} after an unclean exit. */
export const RESTART_INTERRUPTED_REASON = "restart_interrupted";

/** One routing key's current session and the flags the router reads on the next message. */
export interface RoutingEntry {
  readonly sessionKey: string;
  readonly sessionId: string;
  readonly createdAt: number;
  /** Last activity on the key; the idle/daily reset policies and pruning read it. */
  readonly updatedAt: number;
  /** Snapshot of where the key's messages come from (delivery routing, session recovery). */
  readonly origin: SessionSource | null;
  readonly displayName: string | null;
  readonly platform: string | null;
  readonly chatType: string;
  /** Last API-reported prompt size; a reset "had activity" when it is above zero. */
  readonly lastPromptTokens: number;
  /** Set when this session replaced an expired one; consumed once to tell the user. */
  readonly wasAutoReset: boolean;
  /** Why the previous session expired (`idle`, `daily`, `suspended`, ...). */
  readonly autoResetReason: string | null;
  /** Whether the expired session had any conversation. */
  readonly resetHadActivity: boolean;
  /** Set by an explicit `/new`/`/reset`; consumed once to re-inject channel skills. */
  readonly isFreshReset: boolean;
  /** The expiry watcher finalised this session already; prevents a second finalisation. */
  readonly expiryFinalized: boolean;
  /** Hard stop (`/stop`, stuck-loop escalation): the next access starts a new session. Wins over resume. */
  readonly suspended: boolean;
  /** Interrupted by a restart; the next access keeps the session id and auto-continues. */
  readonly resumePending: boolean;
  readonly resumeReason: string | null;
  /** When resume was marked; never bumped per message, so it measures how long resume is pending. */
  readonly resumeMarkedAt: number | null;
  /** Session-scoped `/model` override: model, provider and base URL only, never credentials. */
  readonly modelOverride: ModelOverride | null;
}

/** The flags a new or replaced entry may start with; anything omitted takes its default. */
export interface RoutingEntryFlags {
  readonly displayName?: string | null;
  readonly origin?: SessionSource | null;
  readonly lastPromptTokens?: number;
  readonly wasAutoReset?: boolean;
  readonly autoResetReason?: string | null;
  readonly resetHadActivity?: boolean;
  readonly isFreshReset?: boolean;
  readonly expiryFinalized?: boolean;
  readonly suspended?: boolean;
  readonly resumePending?: boolean;
  readonly resumeReason?: string | null;
  readonly resumeMarkedAt?: number | null;
  /** Untrusted: sanitised with `sanitizeModelOverride` before anything is stored. */
  readonly modelOverride?: unknown;
}

export interface NewRoutingEntry extends RoutingEntryFlags {
  readonly sessionKey: string;
  readonly sessionId: string;
  /** Defaults to `origin.platform`. */
  readonly platform?: string | null;
  /** Defaults to `origin.chatType`, else `"dm"`. */
  readonly chatType?: string;
  /** Defaults to the index's clock. */
  readonly createdAt?: number;
}

/**
 * A partial update of one key's flags. Only the fields present are written; each is a column-level
 * write, so concurrent patches of different fields never undo each other.
 */
export interface RoutingEntryPatch extends RoutingEntryFlags {
  readonly platform?: string | null;
  readonly chatType?: string;
  /** Bump `updatedAt` to now (default true): a patch is activity unless told otherwise. */
  readonly touch?: boolean;
}

export interface PatchRoutingEntryOptions {
  /** Apply only while the key still routes to this session (a reset in between makes it a no-op). */
  readonly expectedSessionId?: string;
}

/** Flags the new session of a switch starts with; everything else is reset to its default. */
export interface SwitchSessionOptions {
  readonly displayName?: string | null;
  readonly wasAutoReset?: boolean;
  readonly autoResetReason?: string | null;
  readonly resetHadActivity?: boolean;
  readonly isFreshReset?: boolean;
}

export type SwitchSessionResult =
  | { readonly switched: true; readonly entry: RoutingEntry }
  /** Lost the race (or the key is gone): `current` is what the key routes to now. */
  | { readonly switched: false; readonly current: RoutingEntry | undefined };

export interface PutIfAbsentResult {
  /** True when this call created the entry; false when another writer's entry was already there. */
  readonly created: boolean;
  readonly entry: RoutingEntry;
}

export interface RoutingEntryFilter {
  readonly platform?: string;
  /** Only entries last active strictly before this time. */
  readonly updatedBefore?: number;
  /** Only entries last active at or after this time. */
  readonly updatedSince?: number;
  readonly sessionId?: string;
  readonly suspended?: boolean;
  readonly resumePending?: boolean;
}

export interface ListRoutingEntriesOptions extends RoutingEntryFilter {
  /** Default 100, at most 1000. */
  readonly limit?: number;
  readonly offset?: number;
}

export interface PruneRoutingEntriesOptions {
  /** Keys to keep regardless of age (e.g. those with an active background process). */
  readonly keepKeys?: readonly string[];
}

/**
 * Session key -> session id with flags. Guarantees every implementation keeps:
 *
 * - Every mutation is atomic on its own: no caller ever reads a whole entry, changes it and writes it
 *   back, so concurrent routers never lose each other's updates.
 * - `switchSession` is compare-and-set: of N routers switching away from the same session id, exactly
 *   one wins; the others get `switched: false` and the winner's entry.
 * - Model overrides are stored only through `sanitizeModelOverride`: API keys and other credentials
 *   never reach storage, whatever the caller passes.
 * - Bad input (unsafe key or id, negative tokens) throws `INVALID_ID` / `INVALID_ARGUMENT` and writes
 *   nothing. Lookups of unknown keys return `undefined` / `false`, never throw.
 */
export interface RoutingIndex {
  get(sessionKey: string): Promise<RoutingEntry | undefined>;
  /** The entry whose session id is `sessionId` (the newest when several keys share it). */
  findBySessionId(sessionId: string): Promise<RoutingEntry | undefined>;
  /** Most recently active first. */
  list(options?: ListRoutingEntriesOptions): Promise<RoutingEntry[]>;
  count(filter?: RoutingEntryFilter): Promise<number>;

  /** Creates or wholly replaces the key's entry (unspecified flags take their defaults). */
  put(entry: NewRoutingEntry): Promise<RoutingEntry>;
  /** Creates the entry unless the key already has one: of racing creators exactly one wins. */
  putIfAbsent(entry: NewRoutingEntry): Promise<PutIfAbsentResult>;
  /** Writes only the fields present in `patch`. `undefined` when the key (or expected session) is gone. */
  patch(
    sessionKey: string,
    patch: RoutingEntryPatch,
    options?: PatchRoutingEntryOptions,
  ): Promise<RoutingEntry | undefined>;
  /**
   * Points the key at `newSessionId` if it still points at `expectedSessionId`. The new session keeps
   * origin, platform and chat type; `createdAt`/`updatedAt` become now, every flag (suspend, resume,
   * model override, ...) is reset and then `options` applied. Switching to the current id is a no-op
   * that reports `switched: true`.
   */
  switchSession(
    sessionKey: string,
    expectedSessionId: string,
    newSessionId: string,
    options?: SwitchSessionOptions,
  ): Promise<SwitchSessionResult>;
  /** Removes the key; with `expectedSessionId`, only while it still routes there. */
  delete(sessionKey: string, options?: { readonly expectedSessionId?: string }): Promise<boolean>;

  /** Marks the key resumable after a restart. Never overrides `suspended` (returns false then). */
  markResumePending(sessionKey: string, reason: string): Promise<boolean>;
  /** Clears the resume flag after a successful resumed turn; false when it was not set. */
  clearResumePending(sessionKey: string): Promise<boolean>;
  /** Marks the key so the next access starts a fresh session. */
  suspend(sessionKey: string): Promise<boolean>;
  /**
   * After an unclean exit: marks entries active at or after `now - maxAgeMs` resumable (reason
   * {@link RESTART_INTERRUPTED_REASON}), skipping suspended and already-pending ones. Returns how many.
   */
  markRecentlyActiveResumable(maxAgeMs: number): Promise<number>;
  /**
   * Drops entries last active before `cutoff`, except suspended ones and `keepKeys`. The transcripts
   * stay; only the mapping goes. Returns how many were removed.
   */
  pruneOlderThan(cutoff: number, options?: PruneRoutingEntriesOptions): Promise<number>;
}

// ---------------------------------------------------------------------------------------------------
// Validation shared by every implementation, so the rules (and the credential stripping) live once.
// ---------------------------------------------------------------------------------------------------

const MAX_TEXT = 256;
const MAX_DISPLAY_NAME = 1024;

/** Default list page size and its upper bound. */
export const DEFAULT_ROUTING_LIST_LIMIT = 100;
export const MAX_ROUTING_LIST_LIMIT = 1000;

/** A session key: path-safe (keys end up in logs and, in file stores, in names) and at most 512 chars. */
export function assertRoutingKey(sessionKey: unknown): asserts sessionKey is string {
  assertSafeId("session key", sessionKey, { maxLength: 512 });
}

function optionalText(argument: string, value: unknown, max: number): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "string" || value.length > max) {
    throw new InvalidArgumentError(argument, `must be a string of at most ${max} characters or null`);
  }
  return value;
}

function optionalBoolean(argument: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new InvalidArgumentError(argument, "must be a boolean");
  return value;
}

function optionalTime(argument: string, value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(argument, "must be a non-negative epoch time in ms or null");
  }
  return value;
}

/**
 * The validated, storable form of a set of flags: only fields present in the input appear in the
 * output (so patches stay partial), origin is re-parsed, and the model override passes through
 * `sanitizeModelOverride` (credentials dropped; `null` when nothing persistable remains).
 */
export interface NormalizedRoutingFields {
  displayName?: string | null;
  origin?: SessionSource | null;
  platform?: string | null;
  chatType?: string;
  lastPromptTokens?: number;
  wasAutoReset?: boolean;
  autoResetReason?: string | null;
  resetHadActivity?: boolean;
  isFreshReset?: boolean;
  expiryFinalized?: boolean;
  suspended?: boolean;
  resumePending?: boolean;
  resumeReason?: string | null;
  resumeMarkedAt?: number | null;
  modelOverride?: ModelOverride | null;
}

/**
 * Validates and sanitises the fields of a patch or a new entry. Every implementation calls this
 * before writing, which is what makes "no credentials in storage" hold for all of them.
 *
 * @throws InvalidArgumentError / InvalidIdError on a malformed field; nothing has been written.
 */
export function normalizeRoutingFields(input: RoutingEntryPatch | NewRoutingEntry): NormalizedRoutingFields {
  const out: NormalizedRoutingFields = {};
  const displayName = optionalText("displayName", input.displayName, MAX_DISPLAY_NAME);
  if (displayName !== undefined) out.displayName = displayName;
  if (input.origin !== undefined)
    out.origin = input.origin === null ? null : parseSessionSource(input.origin);
  const platform = optionalText("platform", input.platform, 64);
  if (platform !== undefined) out.platform = platform;
  if (input.chatType !== undefined) {
    const chatType = optionalText("chatType", input.chatType, 64);
    if (!chatType) throw new InvalidArgumentError("chatType", "must be a non-empty string");
    out.chatType = chatType;
  }
  if (input.lastPromptTokens !== undefined) {
    const tokens = input.lastPromptTokens;
    if (!Number.isSafeInteger(tokens) || tokens < 0) {
      throw new InvalidArgumentError("lastPromptTokens", "must be a non-negative integer");
    }
    out.lastPromptTokens = tokens;
  }
  for (const name of [
    "wasAutoReset",
    "resetHadActivity",
    "isFreshReset",
    "expiryFinalized",
    "suspended",
    "resumePending",
  ] as const) {
    const value = optionalBoolean(name, input[name]);
    if (value !== undefined) out[name] = value;
  }
  const autoResetReason = optionalText("autoResetReason", input.autoResetReason, MAX_TEXT);
  if (autoResetReason !== undefined) out.autoResetReason = autoResetReason;
  const resumeReason = optionalText("resumeReason", input.resumeReason, MAX_TEXT);
  if (resumeReason !== undefined) out.resumeReason = resumeReason;
  const resumeMarkedAt = optionalTime("resumeMarkedAt", input.resumeMarkedAt);
  if (resumeMarkedAt !== undefined) out.resumeMarkedAt = resumeMarkedAt;
  if (input.modelOverride !== undefined)
    out.modelOverride = sanitizeModelOverride(input.modelOverride) ?? null;
  return out;
}

/** A complete entry from `input` with defaults filled in, validated and sanitised. */
export function buildRoutingEntry(input: NewRoutingEntry, now: number): RoutingEntry {
  assertRoutingKey(input.sessionKey);
  assertSafeId("session id", input.sessionId);
  const fields = normalizeRoutingFields(input);
  const createdAt = optionalTime("createdAt", input.createdAt) ?? now;
  const origin = fields.origin ?? null;
  return {
    sessionKey: input.sessionKey,
    sessionId: input.sessionId,
    createdAt,
    updatedAt: now,
    origin,
    // Only an absent display name falls back to the chat name; an explicit null stays null.
    displayName: fields.displayName !== undefined ? fields.displayName : (origin?.chatName ?? null),
    platform: fields.platform !== undefined ? fields.platform : (origin?.platform ?? null),
    chatType: fields.chatType ?? origin?.chatType ?? "dm",
    lastPromptTokens: fields.lastPromptTokens ?? 0,
    wasAutoReset: fields.wasAutoReset ?? false,
    autoResetReason: fields.autoResetReason ?? null,
    resetHadActivity: fields.resetHadActivity ?? false,
    isFreshReset: fields.isFreshReset ?? false,
    expiryFinalized: fields.expiryFinalized ?? false,
    suspended: fields.suspended ?? false,
    resumePending: fields.resumePending ?? false,
    resumeReason: fields.resumeReason ?? null,
    resumeMarkedAt: fields.resumeMarkedAt ?? null,
    modelOverride: fields.modelOverride ?? null,
  };
}

/** The entry a successful switch leaves behind: identity kept, session new, flags reset. */
export function switchedRoutingEntry(
  previous: RoutingEntry,
  newSessionId: string,
  options: SwitchSessionOptions,
  now: number,
): RoutingEntry {
  return buildRoutingEntry(
    {
      sessionKey: previous.sessionKey,
      sessionId: newSessionId,
      origin: previous.origin,
      platform: previous.platform,
      chatType: previous.chatType,
      displayName: options.displayName !== undefined ? options.displayName : previous.displayName,
      ...pickSwitchFlags(options),
      createdAt: now,
    },
    now,
  );
}

/** The flag fields of `options`, validated (the display name is handled by the caller). */
export function pickSwitchFlags(options: SwitchSessionOptions): RoutingEntryFlags {
  const { wasAutoReset, autoResetReason, resetHadActivity, isFreshReset } = options;
  return normalizeRoutingFields({ wasAutoReset, autoResetReason, resetHadActivity, isFreshReset });
}

/** Validates a list page size against {@link MAX_ROUTING_LIST_LIMIT}. */
export function routingListLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_ROUTING_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArgumentError("limit", "must be a positive integer");
  return Math.min(limit, MAX_ROUTING_LIST_LIMIT);
}

/** Validates a list offset. */
export function routingListOffset(offset: number | undefined): number {
  if (offset === undefined) return 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidArgumentError("offset", "must be a non-negative integer");
  return offset;
}
