import type { MemoryCommitCoordinator } from "@engram/core";
import type { Agent } from "../agent/agent.js";

/** What one idle sweep did. */
export interface IdleSweepReport {
  /** Agents dropped (their work committed first, or there was none). */
  readonly evicted: readonly string[];
  /** Idle, but the commit failed: kept, and retried at the next sweep or boundary. */
  readonly failed: readonly string[];
}

export interface AgentCacheProps {
  /** Every cached agent is registered here; work is committed through it before an agent is dropped. */
  readonly coordinator: MemoryCommitCoordinator;
  /** Live agents kept; beyond it the least recently used unpinned one is committed and dropped. */
  readonly maxAgents: number;
  /** Idle time after which {@link AgentCache.sweepIdle} drops an agent (default: never). */
  readonly idleTtlMs?: number;
  /** Longest wait for a drop's commit, in ms (default 30000). */
  readonly commitTimeoutMs?: number;
  readonly clock?: { now(): number };
  /** Told after the cache committed a session's work on its own (before a drop): `clean` = nothing left. */
  readonly onCommitted?: (sessionId: string, result: { readonly clean: boolean }) => void;
  /**
   * Drops for room run in the background, so a turn that needs a place never waits for another
   * session's memory commit. At most this many run at once (the cache holds that many agents over
   * `maxAgents` meanwhile); beyond it, making room waits for one to end. Default: a quarter of
   * `maxAgents`, between 1 and 64.
   */
  readonly maxPendingDrops?: number;
}

interface Entry {
  readonly agent: Agent;
  lastUsedAt: number;
  /** Calls of `use` running on this agent: a pinned agent is never dropped. */
  pins: number;
  /** A drop (its commit) is under way: no second drop may start, or both would think they lost it. */
  dropping: boolean;
}

/**
 * One {@link Agent} per session id, bounded (LRU cap and idle TTL), for hosts that serve many sessions
 * (the gateway, the web server). Memory is committed only at real boundaries (seed 000), and dropping
 * an agent is one: an agent with uncommitted work is committed through the coordinator first.
 *
 * Guarantees:
 * - An agent is never dropped while pinned: from the start of {@link use} until its callback settled,
 *   so a turn and the bookkeeping after it (saving the reply, `markTurnCompleted`) see one agent.
 * - Every agent the cache builds is initialised and registered with the coordinator before use, and
 *   unregistered only once it has nothing left to commit.
 * - A drop whose commit fails leaves the agent registered with the coordinator (which retries it at
 *   the next boundary); the idle sweep even keeps it cached.
 */
export class AgentCache {
  readonly #props: AgentCacheProps;
  readonly #clock: { now(): number };
  /** Insertion order is recency order: a hit moves to the end. */
  readonly #entries = new Map<string, Entry>();
  /** Drops for room still running (see {@link AgentCacheProps.maxPendingDrops}). */
  readonly #pendingDrops = new Set<Promise<unknown>>();
  readonly #maxPendingDrops: number;
  /** Entries whose drop is under way (they leave the cache once it ends). */
  #dropping = 0;

  constructor(props: AgentCacheProps) {
    this.#props = props;
    this.#clock = props.clock ?? Date;
    this.#maxPendingDrops = Math.max(
      1,
      Math.floor(props.maxPendingDrops ?? Math.min(64, Math.ceil(props.maxAgents / 4))),
    );
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The session's cached agent, without touching recency. */
  peek(sessionId: string): Agent | undefined {
    return this.#entries.get(sessionId)?.agent;
  }

  /**
   * Runs `fn` with the session's agent pinned. Without a cached agent, `create` builds one (not yet
   * initialised); the cache makes room, initialises and registers it first.
   */
  async use<T>(sessionId: string, create: () => Agent, fn: (agent: Agent) => Promise<T>): Promise<T> {
    const entry = await this.#acquire(sessionId, create);
    entry.pins++;
    try {
      return await fn(entry.agent);
    } finally {
      entry.pins--;
      entry.lastUsedAt = this.#clock.now();
      // Agents built while every place was pinned went over the cap: trim back once this one is free
      // (in the background: the caller's turn is done and does not wait for other sessions' commits).
      if (this.#entries.size - this.#dropping > this.#props.maxAgents)
        await this.#makeRoom(this.#props.maxAgents);
    }
  }

  /** Resolves once every drop for room started so far has ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#pendingDrops.size > 0) await Promise.allSettled([...this.#pendingDrops]);
  }

  /** Moves the agent of `from` to `to` (the agent now serves `to`, e.g. after compression). */
  rekey(from: string, to: string): void {
    const entry = this.#entries.get(from);
    if (!entry) return;
    const { coordinator } = this.#props;
    this.#entries.delete(from);
    coordinator.unregisterAgent(from);
    this.#entries.set(to, entry);
    coordinator.registerAgent(to, entry.agent);
  }

  /**
   * Forgets the session's agent and shuts its providers down; the caller committed its memory. A
   * pinned agent stays (returns false).
   */
  evict(sessionId: string): boolean {
    const entry = this.#entries.get(sessionId);
    if (!entry || entry.pins > 0) return false;
    this.#entries.delete(sessionId);
    this.#props.coordinator.unregisterAgent(sessionId);
    void entry.agent.shutdown({ deadlineMs: 5_000 }).catch(() => undefined);
    return true;
  }

  /** Drops agents idle past the TTL (never a pinned one), committing their work first. */
  async sweepIdle(): Promise<IdleSweepReport> {
    const ttl = this.#props.idleTtlMs;
    if (ttl === undefined) return { evicted: [], failed: [] };
    const cutoff = this.#clock.now() - ttl;
    const evicted: string[] = [];
    const failed: string[] = [];
    for (const [sessionId, entry] of [...this.#entries]) {
      if (entry.lastUsedAt > cutoff || entry.pins > 0 || entry.dropping) continue;
      if (await this.#drop(sessionId, entry, { keepDirty: true })) evicted.push(sessionId);
      else if (this.#entries.get(sessionId) === entry) failed.push(sessionId);
    }
    return { evicted, failed };
  }

  /** Shuts every cached agent's providers down (call after the coordinator drained). */
  async close(): Promise<void> {
    // Drops for room under way commit and shut their agents down themselves; let them end first
    // (each is bounded by `commitTimeoutMs`).
    await this.settled();
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map(({ agent }) => agent.shutdown({ deadlineMs: 5_000 })));
  }

  async #acquire(sessionId: string, create: () => Agent): Promise<Entry> {
    const cached = this.#entries.get(sessionId);
    if (cached) {
      this.#entries.delete(sessionId);
      this.#entries.set(sessionId, cached);
      cached.lastUsedAt = this.#clock.now();
      return cached;
    }
    await this.#makeRoom();
    const agent = create();
    await agent.initialize();
    // Another caller may have built one meanwhile (both missed the cache): keep the first.
    const raced = this.#entries.get(sessionId);
    if (raced) {
      void agent.shutdown({ deadlineMs: 5_000 }).catch(() => undefined);
      return raced;
    }
    const entry: Entry = { agent, lastUsedAt: this.#clock.now(), pins: 0, dropping: false };
    this.#entries.set(sessionId, entry);
    this.#props.coordinator.registerAgent(sessionId, agent);
    return entry;
  }

  /**
   * Starts drops of least recently used unpinned agents until at most `keep` remain besides those
   * being dropped, committing their work first. The drops run in the background; this waits only when
   * `maxPendingDrops` are already running (back-pressure, so a slow provider cannot grow the cache
   * without bound).
   */
  async #makeRoom(keep = this.#props.maxAgents - 1): Promise<void> {
    while (this.#entries.size - this.#dropping > keep) {
      if (this.#pendingDrops.size >= this.#maxPendingDrops) {
        await Promise.race(this.#pendingDrops);
        continue;
      }
      // Concurrent callers each take a different victim: one already being dropped is not one.
      const victim = this.#oldestDroppable();
      if (victim === undefined) return;
      const drop = this.#drop(victim[0], victim[1], { keepDirty: false }).then(
        () => undefined,
        () => undefined,
      );
      this.#pendingDrops.add(drop);
      void drop.finally(() => this.#pendingDrops.delete(drop));
    }
  }

  #oldestDroppable(): [string, Entry] | undefined {
    for (const item of this.#entries) if (item[1].pins === 0 && !item[1].dropping) return item;
    return undefined;
  }

  /**
   * Commits the agent's uncommitted work through the coordinator, then drops it. With `keepDirty` an
   * agent whose commit failed stays cached; otherwise it leaves the cache but stays registered with the
   * coordinator, which keeps it for the retry. Resolves whether the agent left clean.
   */
  async #drop(sessionId: string, entry: Entry, props: { readonly keepDirty: boolean }): Promise<boolean> {
    const { coordinator } = this.#props;
    entry.dropping = true;
    this.#dropping++;
    let dirty = false;
    let committed = false;
    try {
      // The commit itself says when there was nothing to commit (one round trip fewer on a shared ledger).
      // Every segment goes, not only the earliest: a session whose earlier turns belonged to a crashed
      // process's agent (adopted by this one) has two, and the drop is the boundary for both.
      const outcome = await coordinator.tryCommitSession(sessionId, {
        timeoutMs: this.#props.commitTimeoutMs ?? 30_000,
        untilClean: true,
      });
      if (outcome !== "clean") {
        committed = true;
        // With untilClean, `committed` means nothing is left; anything else is a failure or another
        // live process's segment.
        dirty = outcome !== "committed";
      }
    } catch {
      dirty = true;
    } finally {
      entry.dropping = false;
      this.#dropping--;
    }
    if (committed) this.#props.onCommitted?.(sessionId, { clean: !dirty });
    // Pinned or replaced while the commit ran: it is in use again, leave it.
    if (this.#entries.get(sessionId) !== entry || entry.pins > 0) return false;
    if (dirty && props.keepDirty) return false;
    this.#entries.delete(sessionId);
    if (dirty) return false;
    coordinator.unregisterAgent(sessionId);
    void entry.agent.shutdown({ deadlineMs: 5_000 }).catch(() => undefined);
    return true;
  }
}
