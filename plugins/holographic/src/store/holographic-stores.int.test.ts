import { randomBytes } from "node:crypto";
import { describeEachBackend } from "@engram/store/testing";
import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";
import { holographicMigrations } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { sharedHrrEncoder } from "../hrr/hrr-encoder.js";
import { HolographicProvider } from "../provider/holographic-provider.js";
import { HolographicStores } from "./holographic-stores.js";

describeEachBackend<HolographicDB>(
  "HolographicStores",
  ({ db }) => {
    let stores: HolographicStores<HolographicDB> | undefined;
    afterEach(async () => {
      await stores?.close();
      stores = undefined;
    });
    const make = (maxOpenScopes?: number) => {
      stores = new HolographicStores({ db: db(), ...(maxOpenScopes === undefined ? {} : { maxOpenScopes }) });
      return stores;
    };

    it("migrates once and opens nothing until a lease is used, even under a burst of leases", async () => {
      const s = make();
      const leases = Array.from({ length: 24 }, (_, i) => s.lease(`scope-${i % 6}`));
      expect(s.openScopes).toBe(0);
      const opened = await Promise.all(leases.map((lease) => lease.openStore()));
      expect(s.openScopes).toBe(6);
      // Leases of one scope share one store (one index in memory).
      expect(new Set(opened).size).toBe(6);
      expect(opened[0]).toBe(opened[6]);
      expect(s.holders("scope-0")).toBe(4);
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from engram_holographic_migration
      `.execute(db());
      expect(rows[0]?.n).toBe(Object.keys(holographicMigrations).length);
    });

    it("gives each scope its own facts", async () => {
      const s = make();
      const a = await s.lease("telegram:user:1").openStore();
      const b = await s.lease("telegram:user:2").openStore();
      await a.add({ content: "I prefer tabs over spaces" });
      expect(await b.search("tabs spaces", { minTrust: 0 })).toEqual([]);
      expect(a.size).toBe(1);
    });

    // Issue 18: each store built its own encoder, so every open scope kept an atom cache of its own
    // (up to 32 MiB at the defaults) holding the same deterministic atoms as every other scope's.
    it("encodes every scope with one shared atom cache", async () => {
      const s = make();
      const atoms = sharedHrrEncoder().atoms;
      const a = await s.lease("telegram:user:shared-1").openStore();
      const b = await s.lease("telegram:user:shared-2").openStore();
      // Words no earlier test (or backend lane) of this process encoded: the cache is process-wide.
      const fresh = randomBytes(4).toString("hex");
      const text = `quokkas${fresh} nap beside marsupial lanterns${fresh}`;
      const missesBefore = atoms.misses;
      await a.add({ content: text });
      const missesAfterFirst = atoms.misses;
      expect(missesAfterFirst).toBeGreaterThan(missesBefore);
      await b.add({ content: text });
      expect(atoms.misses).toBe(missesAfterFirst);
      expect((await b.search(`quokkas${fresh} lanterns${fresh}`, { minTrust: 0 })).length).toBe(1);
    });

    it("never closes a store a lease still holds, however many scopes open", async () => {
      const s = make(1);
      const held = s.lease("held");
      const store = await held.openStore();
      for (let i = 0; i < 5; i++) {
        const lease = s.lease(`passing-${i}`);
        await (await lease.openStore()).add({ content: `passing fact ${i}` });
        await lease.releaseStore();
      }
      // Over the cap only by the held scope: every released one was closed.
      expect(s.openScopes).toBe(1);
      expect((await store.add({ content: "still writable" })).created).toBe(true);
      expect(await held.openStore()).toBe(store);
      await held.releaseStore();
      await held.releaseStore(); // idempotent: the count never goes below the real holders
      expect(s.holders("held")).toBe(0);
      await expect(held.openStore()).rejects.toMatchObject({ code: "STORE_FAILED" });
    });

    it("keeps idle scopes open up to the cap and closes the least recently used beyond it", async () => {
      const s = make(2);
      const stores = [];
      for (const scope of ["a", "b", "c"]) {
        const lease = s.lease(scope);
        stores.push(await lease.openStore());
        await lease.releaseStore();
      }
      expect(s.openScopes).toBe(2);
      await expect(stores[0]!.add({ content: "closed" })).rejects.toMatchObject({ code: "STORE_FAILED" });
      const again = s.lease("b");
      expect(await again.openStore()).toBe(stores[1]);
      await again.releaseStore();
    });

    it("reopens a closed scope with every write the closed store had queued", async () => {
      const s = make(0);
      const lease = s.lease("user");
      const store = await lease.openStore();
      const writes = Array.from({ length: 50 }, (_, i) => store.add({ content: `queued fact ${i}` }));
      // Released while the adds are still queued: closing flushes them before the scope reopens.
      const released = lease.releaseStore();
      const reopened = await s.lease("user").openStore();
      await released;
      expect(reopened).not.toBe(store);
      expect((await Promise.all(writes)).every((result) => result.created)).toBe(true);
      expect(reopened.size).toBe(50);
    });

    it("lets a provider hold its scope from initialize to shutdown", async () => {
      const s = make(0);
      const provider = new HolographicProvider({ ...s.lease("telegram:user:5"), autoExtract: true });
      expect(s.holders("telegram:user:5")).toBe(0);
      await provider.initialize({ sessionId: "s1", platform: "test", agentContext: "primary", extra: {} });
      expect(s.holders("telegram:user:5")).toBe(1);
      await provider.onSessionEnd([{ role: "user", content: "I prefer tabs over spaces" }]);
      await provider.shutdown();
      expect(s.holders("telegram:user:5")).toBe(0);
      expect(s.openScopes).toBe(0);
      const store = await s.lease("telegram:user:5").openStore();
      expect(store.list().map((fact) => fact.content)).toEqual(["I prefer tabs over spaces"]);
    });

    it("rejects an unsafe scope where it is chosen, and every open after close", async () => {
      const s = make();
      for (const scope of ["", "../x", "a/b"]) {
        expect(() => s.lease(scope)).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
      }
      const lease = s.lease("late");
      await s.close();
      await expect(lease.openStore()).rejects.toMatchObject({ code: "STORE_FAILED" });
    });
  },
  // Unmigrated on purpose: the stores migrate on first use.
  { migrate: false },
);
