import { InvalidArgumentError } from "../errors/index.js";
import { type Clock, systemClock } from "../gateway/clock.js";
import { assertSafeId } from "../gateway/safe-id.js";
import {
  assertRoutingKey,
  buildRoutingEntry,
  type ListRoutingEntriesOptions,
  type NewRoutingEntry,
  normalizeRoutingFields,
  type PatchRoutingEntryOptions,
  type PruneRoutingEntriesOptions,
  type PutIfAbsentResult,
  RESTART_INTERRUPTED_REASON,
  type RoutingEntry,
  type RoutingEntryFilter,
  type RoutingEntryPatch,
  type RoutingIndex,
  routingListLimit,
  routingListOffset,
  type SwitchSessionOptions,
  type SwitchSessionResult,
  switchedRoutingEntry,
} from "./routing-index.js";

export interface InMemoryRoutingIndexProps {
  readonly clock?: Clock;
}

function matches(entry: RoutingEntry, filter: RoutingEntryFilter): boolean {
  if (filter.platform !== undefined && entry.platform !== filter.platform) return false;
  if (filter.updatedBefore !== undefined && !(entry.updatedAt < filter.updatedBefore)) return false;
  if (filter.updatedSince !== undefined && !(entry.updatedAt >= filter.updatedSince)) return false;
  if (filter.sessionId !== undefined && entry.sessionId !== filter.sessionId) return false;
  if (filter.suspended !== undefined && entry.suspended !== filter.suspended) return false;
  if (filter.resumePending !== undefined && entry.resumePending !== filter.resumePending) return false;
  return true;
}

/** Entries are shared with callers, so they are frozen (with their nested objects) before storing. */
function frozen(entry: RoutingEntry): RoutingEntry {
  if (entry.origin) Object.freeze(entry.origin);
  if (entry.modelOverride) Object.freeze(entry.modelOverride);
  return Object.freeze(entry);
}

const newestFirst = (a: RoutingEntry, b: RoutingEntry): number =>
  b.updatedAt - a.updatedAt || (a.sessionKey < b.sessionKey ? -1 : a.sessionKey > b.sessionKey ? 1 : 0);

/**
 * The reference {@link RoutingIndex} for one process. Entries are immutable objects in a `Map`; every
 * method reads and replaces an entry without an `await` in between, so each call is atomic with
 * respect to every other call on the same instance — the property the database implementations get
 * from single-statement updates.
 */
export class InMemoryRoutingIndex implements RoutingIndex {
  readonly #entries = new Map<string, RoutingEntry>();
  readonly #clock: Clock;

  constructor(props: InMemoryRoutingIndexProps = {}) {
    this.#clock = props.clock ?? systemClock;
  }

  async get(sessionKey: string): Promise<RoutingEntry | undefined> {
    assertRoutingKey(sessionKey);
    return this.#entries.get(sessionKey);
  }

  async findBySessionId(sessionId: string): Promise<RoutingEntry | undefined> {
    assertSafeId("session id", sessionId);
    return [...this.#entries.values()].filter((entry) => entry.sessionId === sessionId).sort(newestFirst)[0];
  }

  async list(options: ListRoutingEntriesOptions = {}): Promise<RoutingEntry[]> {
    const limit = routingListLimit(options.limit);
    const offset = routingListOffset(options.offset);
    return [...this.#entries.values()]
      .filter((entry) => matches(entry, options))
      .sort(newestFirst)
      .slice(offset, offset + limit);
  }

  async count(filter: RoutingEntryFilter = {}): Promise<number> {
    let n = 0;
    for (const entry of this.#entries.values()) if (matches(entry, filter)) n++;
    return n;
  }

  async put(input: NewRoutingEntry): Promise<RoutingEntry> {
    const entry = buildRoutingEntry(input, this.#clock.now());
    this.#entries.set(entry.sessionKey, frozen(entry));
    return entry;
  }

  async putIfAbsent(input: NewRoutingEntry): Promise<PutIfAbsentResult> {
    const entry = buildRoutingEntry(input, this.#clock.now());
    const existing = this.#entries.get(entry.sessionKey);
    if (existing) return { created: false, entry: existing };
    this.#entries.set(entry.sessionKey, frozen(entry));
    return { created: true, entry };
  }

  async patch(
    sessionKey: string,
    patch: RoutingEntryPatch,
    options: PatchRoutingEntryOptions = {},
  ): Promise<RoutingEntry | undefined> {
    assertRoutingKey(sessionKey);
    if (options.expectedSessionId !== undefined)
      assertSafeId("expected session id", options.expectedSessionId);
    const fields = normalizeRoutingFields(patch);
    const now = this.#clock.now();
    const current = this.#entries.get(sessionKey);
    if (!current) return undefined;
    if (options.expectedSessionId !== undefined && current.sessionId !== options.expectedSessionId)
      return undefined;
    const next: RoutingEntry = {
      ...current,
      ...fields,
      updatedAt: patch.touch === false ? current.updatedAt : now,
    };
    this.#entries.set(sessionKey, frozen(next));
    return next;
  }

  async switchSession(
    sessionKey: string,
    expectedSessionId: string,
    newSessionId: string,
    options: SwitchSessionOptions = {},
  ): Promise<SwitchSessionResult> {
    assertRoutingKey(sessionKey);
    assertSafeId("expected session id", expectedSessionId);
    assertSafeId("session id", newSessionId);
    const now = this.#clock.now();
    const current = this.#entries.get(sessionKey);
    if (!current || current.sessionId !== expectedSessionId) return { switched: false, current };
    if (expectedSessionId === newSessionId) return { switched: true, entry: current };
    const entry = switchedRoutingEntry(current, newSessionId, options, now);
    this.#entries.set(sessionKey, frozen(entry));
    return { switched: true, entry };
  }

  async delete(sessionKey: string, options: { readonly expectedSessionId?: string } = {}): Promise<boolean> {
    assertRoutingKey(sessionKey);
    const current = this.#entries.get(sessionKey);
    if (!current) return false;
    if (options.expectedSessionId !== undefined && current.sessionId !== options.expectedSessionId)
      return false;
    return this.#entries.delete(sessionKey);
  }

  async markResumePending(sessionKey: string, reason: string): Promise<boolean> {
    assertRoutingKey(sessionKey);
    const fields = normalizeRoutingFields({ resumeReason: reason });
    const current = this.#entries.get(sessionKey);
    // An explicit suspend is the hard reset signal; a restart must not soften it into a resume.
    if (!current || current.suspended) return false;
    this.#entries.set(
      sessionKey,
      frozen({
        ...current,
        resumePending: true,
        resumeReason: fields.resumeReason ?? null,
        resumeMarkedAt: this.#clock.now(),
      }),
    );
    return true;
  }

  async clearResumePending(sessionKey: string): Promise<boolean> {
    assertRoutingKey(sessionKey);
    const current = this.#entries.get(sessionKey);
    if (!current?.resumePending) return false;
    this.#entries.set(
      sessionKey,
      frozen({
        ...current,
        resumePending: false,
        resumeReason: null,
        resumeMarkedAt: null,
      }),
    );
    return true;
  }

  async suspend(sessionKey: string): Promise<boolean> {
    assertRoutingKey(sessionKey);
    const current = this.#entries.get(sessionKey);
    if (!current) return false;
    this.#entries.set(sessionKey, frozen({ ...current, suspended: true }));
    return true;
  }

  async markRecentlyActiveResumable(maxAgeMs: number): Promise<number> {
    if (!Number.isFinite(maxAgeMs) || maxAgeMs < 0) {
      throw new InvalidArgumentError("maxAgeMs", "must be a non-negative number of milliseconds");
    }
    const now = this.#clock.now();
    const cutoff = now - maxAgeMs;
    let marked = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.resumePending || entry.suspended || entry.updatedAt < cutoff) continue;
      this.#entries.set(
        key,
        frozen({
          ...entry,
          resumePending: true,
          resumeReason: RESTART_INTERRUPTED_REASON,
          resumeMarkedAt: now,
        }),
      );
      marked++;
    }
    return marked;
  }

  async pruneOlderThan(cutoff: number, options: PruneRoutingEntriesOptions = {}): Promise<number> {
    if (!Number.isFinite(cutoff)) throw new InvalidArgumentError("cutoff", "must be an epoch time in ms");
    const keep = new Set(options.keepKeys ?? []);
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.suspended || keep.has(key) || entry.updatedAt >= cutoff) continue;
      this.#entries.delete(key);
      removed++;
    }
    return removed;
  }
}
