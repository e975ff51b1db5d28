// The provider conformance kit (@engram/testkit) on the Holographic provider, on PGlite (and on real
// Postgres when DATABASE_URL is set). Each check gets a fresh provider over a fresh fact store in the
// test file's database; the probe reads the facts the provider wrote (Holographic keeps no per-session
// buffers, so writes carry no session id).

import { createTestDatabase, type TestDatabase, testBackends } from "@engram/store/testing";
import type { MemoryProviderTestInitializer } from "@engram/testkit";
import { describeMemoryProvider } from "@engram/testkit/vitest";
import { migrateHolographic } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { HolographicFactStore } from "../store/holographic-fact-store.js";
import { HolographicStores } from "../store/holographic-stores.js";
import { HolographicProvider } from "./holographic-provider.js";

for (const backend of testBackends()) {
  let database: TestDatabase<HolographicDB> | undefined;
  const stores = new Map<HolographicProvider, HolographicFactStore>();
  // The recall checks build providers for a session context: those lease their scope's store, as the
  // plugin's factory does, so a later session of the scope recalls and another scope does not.
  let scoped: HolographicStores<HolographicDB> | undefined;

  const initializer: MemoryProviderTestInitializer<HolographicProvider> = {
    name: `HolographicProvider [${backend}]`,
    beforeAll: async () => {
      database = await createTestDatabase<HolographicDB>(backend, {
        migrate: false,
        setup: (db) => migrateHolographic(db),
      });
    },
    afterAll: async () => {
      await scoped?.close();
      await database?.close();
    },
    beforeAllTimeout: 60_000,
    createProvider: async (ctx) => {
      if (!database) throw new Error("database not opened");
      if (ctx) {
        scoped ??= new HolographicStores({ db: database.db });
        return new HolographicProvider({ ...scoped.lease(ctx.memoryScope ?? "default"), autoExtract: true });
      }
      const store = await HolographicFactStore.open({ db: database.db });
      const provider = new HolographicProvider({ openStore: async () => store, autoExtract: true });
      stores.set(provider, store);
      return provider;
    },
    destroyProvider: async (provider) => {
      await stores.get(provider)?.close();
      stores.delete(provider);
    },
    probe: async (provider) => {
      const store = stores.get(provider);
      if (!store) return { writes: [] };
      const facts = await store.list({ limit: 1000 });
      return { writes: facts.map((fact) => ({ sessionId: undefined, text: fact.content })) };
    },
    sampleToolCalls: [
      { name: "fact_store", args: { action: "add", content: "The conformance kit prefers tabs" } },
      { name: "fact_store", args: { action: "search", query: "conformance" } },
    ],
  };

  describeMemoryProvider(initializer);
}
