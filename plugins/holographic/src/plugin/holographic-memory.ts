import { StoreError } from "@engram/core";
import { createDatabase, type Database } from "@engram/store";
import type { Kysely } from "kysely";
import type { HolographicDB } from "../db/schema/index.js";
import { type HolographicStoreLease, HolographicStores } from "../store/holographic-stores.js";
import { assertMemoryScope, DEFAULT_MEMORY_SCOPE } from "../store/memory-scope.js";
import type { HolographicConfig } from "./holographic-config.js";

/** Whether the configuration names a database of its own (otherwise the host's is used when there is one). */
export function namesOwnDatabase(config: HolographicConfig): boolean {
  return config.databaseUrl !== undefined || config.dataDir !== undefined || config.memory === true;
}

interface OwnDatabase {
  readonly database: Database<HolographicDB>;
  readonly stores: HolographicStores<HolographicDB>;
}

/**
 * Everything one installation of the holographic plugin holds: the fact stores of each memory scope,
 * on the host's database (`HOST_DATABASE`) unless the configuration names a database of its own, which
 * is then opened (and migrated) on first use and closed by {@link close}. Nothing is opened before a
 * provider is initialised, so building providers (and probing their tools) costs no I/O.
 */
export class HolographicMemory {
  readonly #config: HolographicConfig;
  /** Stores per host database (one in practice; a map so a second host cannot get the first's). */
  readonly #hostStores = new Map<Kysely<unknown>, HolographicStores>();
  #own: Promise<OwnDatabase> | undefined;
  #closed = false;

  constructor(config: HolographicConfig) {
    this.#config = config;
  }

  /**
   * The scope a session's provider uses: the configured `scope` when there is one (every session
   * shares it: single-user installations), else the host's `memoryScope`, else `default`.
   */
  scopeFor(hostScope: string | undefined): string {
    return assertMemoryScope(this.#config.scope ?? hostScope ?? DEFAULT_MEMORY_SCOPE);
  }

  /** A lease on `scope`'s store, on `hostDb` unless the configuration names a database of its own. */
  lease(scope: string, hostDb: Kysely<unknown> | undefined): HolographicStoreLease {
    if (this.#closed) throw closedError();
    if (hostDb && !namesOwnDatabase(this.#config)) {
      let stores = this.#hostStores.get(hostDb);
      if (!stores) {
        stores = new HolographicStores({ db: hostDb, ...this.#storesProps() });
        this.#hostStores.set(hostDb, stores);
      }
      return stores.lease(scope);
    }
    return this.#ownLease(assertMemoryScope(scope));
  }

  /** Closes every store (flushing its writes), then the plugin's own database when it opened one. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stores = [...this.#hostStores.values()];
    this.#hostStores.clear();
    await Promise.allSettled(stores.map((s) => s.close()));
    const own = await this.#own?.catch(() => undefined);
    if (own) {
      await own.stores.close();
      await own.database.close();
    }
  }

  #storesProps() {
    const config = this.#config;
    return {
      ...(config.maxOpenScopes === undefined ? {} : { maxOpenScopes: config.maxOpenScopes }),
      storeProps: {
        ...(config.dim === undefined ? {} : { dim: config.dim }),
        ...(config.defaultTrust === undefined ? {} : { defaultTrust: config.defaultTrust }),
        ...(config.temporalDecayHalfLifeDays === undefined
          ? {}
          : { temporalDecayHalfLifeDays: config.temporalDecayHalfLifeDays }),
      },
    };
  }

  /** A lease whose stores live on the plugin's own database, opened by the first `openStore`. */
  #ownLease(scope: string): HolographicStoreLease {
    let inner: Promise<HolographicStoreLease> | undefined;
    let released = false;
    return {
      scope,
      openStore: () => {
        if (released) return Promise.reject(closedError());
        inner ??= this.#openOwn().then(({ stores }) => stores.lease(scope));
        return inner.then((lease) => lease.openStore());
      },
      releaseStore: async () => {
        if (released) return;
        released = true;
        const lease = await inner?.catch(() => undefined);
        await lease?.releaseStore();
      },
    };
  }

  #openOwn(): Promise<OwnDatabase> {
    if (this.#closed) return Promise.reject(closedError());
    const config = this.#config;
    if (this.#own) return this.#own;
    this.#own = (async (): Promise<OwnDatabase> => {
      const database = await createDatabase<HolographicDB>({
        ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
        ...(config.dataDir ? { dataDir: config.dataDir } : {}),
        ...(config.memory ? { memory: true } : {}),
        ...(config.schema ? { schema: config.schema } : {}),
      });
      // Migrated by the stores before their first store opens.
      return {
        database,
        stores: new HolographicStores<HolographicDB>({ db: database.db, ...this.#storesProps() }),
      };
    })().catch((error: unknown) => {
      // A failed open is retried by the next session instead of being cached.
      this.#own = undefined;
      throw error;
    });
    return this.#own;
  }
}

function closedError(): StoreError {
  return new StoreError("holographic plugin (closed)", new Error("the host stopped: its stores are closed"));
}
