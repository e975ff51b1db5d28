import { StoreError } from "@engram/core";
import type { Kysely } from "kysely";
import { migrateHolographic } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { HolographicFactStore, type HolographicFactStoreProps } from "./holographic-fact-store.js";
import { assertMemoryScope } from "./memory-scope.js";

/** Scopes kept open without any user, least recently used first out, by default. */
export const DEFAULT_MAX_OPEN_SCOPES = 64;

export interface HolographicStoresProps<T = unknown> {
  /**
   * The database (any Kysely whose schema may receive the holographic tables). It is migrated with
   * `migrateHolographic` once, before the first store opens; the caller owns and closes it.
   */
  readonly db: Kysely<T>;
  /**
   * Open scopes kept beyond those in use (default {@link DEFAULT_MAX_OPEN_SCOPES}). A soft cap: scopes
   * with a user are never closed, so more may be open while that many or more are in use.
   */
  readonly maxOpenScopes?: number;
  /** Options of every store (dimension, trust, weights, ...); the scope is per lease. */
  readonly storeProps?: Omit<HolographicFactStoreProps, "db" | "scope">;
}

/**
 * One user's claim on a scope's store, shaped as `HolographicProvider`'s `openStore`/`releaseStore`
 * props (`new HolographicProvider({ ...stores.lease(scope), autoExtract: true })`). Nothing is opened
 * until `openStore` is first called, so a provider that is never initialised costs nothing.
 */
export interface HolographicStoreLease {
  readonly scope: string;
  /** Opens (or joins the opening of) the scope's store and holds it until `releaseStore`; repeat calls hold it once. */
  readonly openStore: () => Promise<HolographicFactStore>;
  /** Lets the store go (idempotent; a no-op when `openStore` was never called). */
  readonly releaseStore: () => Promise<void>;
}

interface ScopeEntry {
  readonly scope: string;
  readonly opening: Promise<HolographicFactStore>;
  /** Leases holding the store. */
  holders: number;
  /** The opening failed: the entry is gone from the cache, and its holders' releases are no-ops. */
  failed: boolean;
}

/**
 * The fact stores of one database, one per memory scope, opened on demand: the database is migrated
 * once (lazily; a failure is retried by the next open), each scope's store is opened once and shared
 * by every lease of that scope.
 *
 * Guarantee: a store is closed only when no lease holds it (its `releaseStore` ran, or `openStore`
 * was never called), or by {@link close}. Idle stores stay open, least recently used first out, while
 * more than `maxOpenScopes` are open; a store being closed is fully flushed before its scope opens
 * again, so a reopened index sees every write of the closed one. A lease that is never released keeps
 * its store open (memory, not correctness): hold leases for as long as the store is used and no longer.
 */
export class HolographicStores<T = unknown> {
  readonly #props: HolographicStoresProps<T>;
  readonly #maxOpen: number;
  /** Insertion order is recency order: a lease moves its scope to the end. */
  readonly #open = new Map<string, ScopeEntry>();
  readonly #closing = new Map<string, Promise<void>>();
  #migrating: Promise<unknown> | undefined;
  #closed = false;

  constructor(props: HolographicStoresProps<T>) {
    this.#props = props;
    const max = props.maxOpenScopes ?? DEFAULT_MAX_OPEN_SCOPES;
    this.#maxOpen = Number.isFinite(max) ? Math.max(0, Math.floor(max)) : DEFAULT_MAX_OPEN_SCOPES;
  }

  /** Scopes whose store is open or opening. */
  get openScopes(): number {
    return this.#open.size;
  }

  /** Leases holding `scope`'s store right now (0 when it is not open). */
  holders(scope: string): number {
    return this.#open.get(scope)?.holders ?? 0;
  }

  /**
   * A lease on `scope`'s store.
   *
   * @throws InvalidIdError (code `INVALID_ID`) when `scope` is not a valid scope name (checked here,
   *   not at `openStore`, so a bad scope fails where it is chosen).
   */
  lease(scope: string): HolographicStoreLease {
    const name = assertMemoryScope(scope);
    let entry: ScopeEntry | undefined;
    let released = false;
    return {
      scope: name,
      openStore: () => {
        if (released) return Promise.reject(closedError(`lease of ${name} (released)`));
        if (!entry) {
          try {
            entry = this.#retain(name);
          } catch (error) {
            return Promise.reject(error);
          }
        }
        return entry.opening;
      },
      releaseStore: async () => {
        if (released) return;
        released = true;
        if (!entry || entry.failed) return;
        entry.holders--;
        await this.#trim();
      },
    };
  }

  /** Closes every store (flushing its writes), whether or not leases still hold it; later leases fail to open. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#open.values()];
    this.#open.clear();
    await Promise.allSettled([...entries.map((entry) => closeStore(entry)), ...[...this.#closing.values()]]);
  }

  #retain(scope: string): ScopeEntry {
    if (this.#closed) throw closedError("stores (closed)");
    const cached = this.#open.get(scope);
    if (cached) {
      cached.holders++;
      this.#open.delete(scope);
      this.#open.set(scope, cached);
      return cached;
    }
    const entry: ScopeEntry = { scope, opening: this.#openStore(scope), holders: 1, failed: false };
    entry.opening.catch(() => {
      // Every holder sees the failure; the next lease tries again from scratch.
      entry.failed = true;
      if (this.#open.get(scope) === entry) this.#open.delete(scope);
    });
    this.#open.set(scope, entry);
    void this.#trim();
    return entry;
  }

  async #openStore(scope: string): Promise<HolographicFactStore> {
    await this.#migrate();
    // The previous store of this scope may still be flushing: its writes must be in the database
    // before the new index loads.
    await this.#closing.get(scope);
    return HolographicFactStore.open({
      ...this.#props.storeProps,
      // Migrated above, so the holographic tables exist whatever else the schema holds.
      db: this.#props.db as unknown as Kysely<HolographicDB>,
      scope,
    });
  }

  #migrate(): Promise<unknown> {
    this.#migrating ??= migrateHolographic(this.#props.db).catch((error: unknown) => {
      this.#migrating = undefined;
      throw error;
    });
    return this.#migrating;
  }

  /** Closes least recently used stores that nobody holds while more than the cap are open. */
  async #trim(): Promise<void> {
    const closes: Promise<void>[] = [];
    for (const entry of [...this.#open.values()]) {
      if (this.#open.size <= this.#maxOpen) break;
      if (entry.holders > 0) continue;
      this.#open.delete(entry.scope);
      const closing = closeStore(entry).finally(() => {
        if (this.#closing.get(entry.scope) === closing) this.#closing.delete(entry.scope);
      });
      this.#closing.set(entry.scope, closing);
      closes.push(closing);
    }
    await Promise.all(closes);
  }
}

/** Flushes and closes; never rejects (a failed write was already reported to whoever made it). */
async function closeStore(entry: ScopeEntry): Promise<void> {
  const store = await entry.opening.catch(() => undefined);
  await store?.close().catch(() => undefined);
}

function closedError(what: string): StoreError {
  return new StoreError(`holographic ${what}`, new Error("the holographic stores are closed"));
}
