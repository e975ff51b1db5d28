import { describeEachBackend } from "@engram/store/testing";
import { sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { holographicMigrations, migrateHolographic } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { HolographicFactStore } from "./holographic-fact-store.js";

describeEachBackend<HolographicDB>(
  "HolographicFactStore",
  ({ db }) => {
    let store: HolographicFactStore;
    beforeEach(async () => {
      store = await HolographicFactStore.open({ db: db() });
    });
    // Background writes (retrieval counters) must land before the next test truncates the tables and
    // restarts the ids, or they would bump the next test's facts.
    afterEach(async () => {
      await store.close();
    });

    const add = async (content: string, category?: string, tags?: string) =>
      (await store.add({ content, ...(category ? { category } : {}), ...(tags ? { tags } : {}) })).fact;

    it("migrates idempotently with its own migration table", async () => {
      expect((await migrateHolographic(db())).applied).toEqual([]);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from engram_holographic_migration`.execute(db());
      expect(rows[0]?.n).toBe(Object.keys(holographicMigrations).length);
    });

    it("adds a fact with defaults, extracted entities and a stored vector", async () => {
      const { fact, created } = await store.add({ content: "  Alice Smith prefers tabs over spaces  " });
      expect(created).toBe(true);
      expect(fact).toMatchObject({
        content: "Alice Smith prefers tabs over spaces",
        category: "general",
        tags: "",
        trust: 0.5,
        retrievalCount: 0,
        helpfulCount: 0,
        entities: ["Alice Smith"],
      });
      const row = await db().selectFrom("holographic_facts").selectAll().executeTakeFirstOrThrow();
      expect(row.hrr_vector?.byteLength).toBe(2048);
      const bank = await db().selectFrom("holographic_banks").selectAll().executeTakeFirstOrThrow();
      expect(bank).toMatchObject({ name: "cat:general", dim: 1024, fact_count: 1 });
    });

    it("deduplicates exact content, sequentially and concurrently", async () => {
      const first = await add("The deploy runs on Fridays");
      const again = await store.add({ content: "The deploy runs on Fridays " });
      expect(again).toMatchObject({ created: false, fact: { id: first.id } });
      const racing = await Promise.all(Array.from({ length: 5 }, () => store.add({ content: "Same thing" })));
      expect(new Set(racing.map((result) => result.fact.id)).size).toBe(1);
      expect(racing.filter((result) => result.created)).toHaveLength(1);
      expect(store.size).toBe(2);
    });

    it("group-commits concurrent adds and keeps every result in order", async () => {
      const contents = Array.from({ length: 300 }, (_, i) => `Fact number ${i} about Project Apollo`);
      const results = await store.addMany(contents.map((content) => ({ content })));
      expect(results.map((result) => result.fact.content)).toEqual(contents);
      expect(new Set(results.map((result) => result.fact.id)).size).toBe(300);
      expect(store.entity("project apollo")?.factCount).toBe(300);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from holographic_fact_entities`.execute(db());
      expect(rows[0]?.n).toBe(300);
    });

    it("rejects bad input with stable codes and writes nothing", async () => {
      await expect(store.add({ content: "   " })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(store.add({ content: "x".repeat(20_000) })).rejects.toMatchObject({
        code: "CONTENT_TOO_LARGE",
      });
      await expect(store.add({ content: "ok", category: "" })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
      await expect(store.search("x", { limit: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(store.feedback(999, true)).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(store.size).toBe(0);
    });

    it("resolves aliases declared with aka to one entity", async () => {
      const first = await add("Robert Paulson aka Bob joined the soap team");
      expect(first.entities).toEqual(["Robert Paulson"]);
      const second = await add("Bob likes hiking in the Blue Ridge Mountains");
      // "Bob" alone is not extracted (single word), so quote it to name the entity.
      const third = await add('"Bob" prefers green tea');
      expect(second.entities).toEqual(["Blue Ridge Mountains"]);
      expect(third.entities).toEqual(["Robert Paulson"]);
      expect(store.entity("BOB")).toMatchObject({ name: "Robert Paulson", aliases: ["Bob"], factCount: 2 });
      const probed = await store.probe("bob");
      expect(probed.map((fact) => fact.id).sort()).toEqual([first.id, third.id].sort());
    });

    for (const fullTextSource of ["index", "database"] as const) {
      it(`searches with full text (${fullTextSource}), Jaccard and HRR weighted by trust`, async () => {
        const searcher = await HolographicFactStore.open({ db: db(), fullTextSource });
        const add = async (content: string, category: string, tags?: string) =>
          (await searcher.add({ content, category, ...(tags ? { tags } : {}) })).fact;
        const tabs = await add("The user prefers tabs over spaces for indentation", "preference", "editor");
        await add("Deploys happen every Friday afternoon", "decision");
        await add("Spaces are used in the Python style guide", "general");
        const results = await searcher.search("tabs or spaces?");
        expect(results[0]?.id).toBe(tabs.id);
        expect(results.length).toBe(2);
        for (const result of results) {
          expect(result.score).toBeGreaterThan(0);
          expect(result.score).toBeLessThanOrEqual(result.trust);
        }
        expect(await searcher.search("tabs", { category: "decision" })).toEqual([]);
        expect((await searcher.search("indentation editor")).map((fact) => fact.id)).toEqual([tabs.id]);
        // Stemming: "prefer" finds "prefers", "deploy" finds "Deploys".
        expect((await searcher.search("prefer")).map((fact) => fact.id)).toEqual([tabs.id]);
        expect(await searcher.search("deploy")).toHaveLength(1);
        expect(await searcher.search("!!!")).toEqual([]);
        expect(await searcher.search("the and of")).toEqual([]);
        await searcher.close();
      });
    }

    it("filters search by minimum trust and counts retrievals", async () => {
      const fact = await add("Kubernetes runs the staging cluster");
      for (let i = 0; i < 3; i++) await store.feedback(fact.id, false);
      expect(await store.search("kubernetes")).toEqual([]);
      const found = await store.search("kubernetes", { minTrust: 0.15 });
      expect(found.map((result) => result.id)).toEqual([fact.id]);
      await store.flush();
      const row = await db()
        .selectFrom("holographic_facts")
        .select("retrieval_count")
        .where("id", "=", fact.id)
        .executeTakeFirstOrThrow();
      expect(row.retrieval_count).toBe(1);
      expect(store.get(fact.id)?.retrievalCount).toBe(1);
    });

    it("applies temporal decay from the injected clock", async () => {
      let now = Date.now();
      const decaying = await HolographicFactStore.open({
        db: db(),
        temporalDecayHalfLifeDays: 1,
        clock: { now: () => now },
      });
      await decaying.add({ content: "Redis caches sessions" });
      const fresh = (await decaying.search("redis"))[0]!.score;
      now += 86_400_000;
      const dayLater = (await decaying.search("redis"))[0]!.score;
      expect(dayLater / fresh).toBeCloseTo(0.5, 2);
      await decaying.close();
    });

    it("adjusts trust by feedback within [0, 1]", async () => {
      const fact = await add("The office is in Berlin Mitte");
      expect(await store.feedback(fact.id, true)).toEqual({
        factId: fact.id,
        oldTrust: 0.5,
        newTrust: 0.55,
        helpfulCount: 1,
      });
      expect((await store.feedback(fact.id, false)).newTrust).toBeCloseTo(0.45);
      for (let i = 0; i < 6; i++) await store.feedback(fact.id, false);
      expect(store.get(fact.id)?.trust).toBe(0);
      const row = await db()
        .selectFrom("holographic_facts")
        .select(["trust_score", "helpful_count"])
        .where("id", "=", fact.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ trust_score: 0, helpful_count: 1 });
    });

    it("probes the facts an entity plays a role in, scored by HRR", async () => {
      const a = await add("Alice Smith leads the Data Platform team");
      const b = await add("Alice Smith prefers dark mode");
      await add("Bob Jones prefers light mode");
      const results = await store.probe("alice smith");
      expect(results.map((fact) => fact.id).sort()).toEqual([a.id, b.id].sort());
      for (const result of results) expect(result.score).toBeGreaterThan(0.5 * result.trust);
      expect(await store.probe("alice smith", { category: "other" })).toEqual([]);
      // Unknown entity: falls back to search.
      expect((await store.probe("dark")).map((fact) => fact.id)).toEqual([b.id]);
    });

    it("finds related facts through co-occurring entities", async () => {
      const direct = await add("Alice Smith works with Bob Jones");
      const neighbour = await add("Bob Jones maintains the Billing Service");
      await add("Carol White writes poems");
      const results = await store.related("Alice Smith");
      expect(results.map((fact) => fact.id)).toEqual([direct.id, neighbour.id]);
      expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
    });

    it("reasons over several entities with AND semantics", async () => {
      const both = await add("Alice Smith and Bob Jones pair on the Billing Service");
      await add("Alice Smith reviews the Search Service");
      await add("Bob Jones owns the Payments Gateway");
      const results = await store.reason(["alice smith", "bob jones"]);
      expect(results[0]?.id).toBe(both.id);
      expect(results[0]!.score).toBeGreaterThan(results[1]!.score + 0.05);
      await expect(store.reason(["", "x"])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });

    it("reports facts about the same entities that say different things", async () => {
      const a = await add("Alice Smith lives in Paris and loves croissants every morning");
      const b = await add("Alice Smith moved to Tokyo last winter for a new job");
      await add("Bob Jones drinks coffee");
      const found = await store.contradict({ threshold: 0.1 });
      expect(found).toHaveLength(1);
      expect([found[0]!.factA.id, found[0]!.factB.id].sort()).toEqual([a.id, b.id].sort());
      expect(found[0]).toMatchObject({ entityOverlap: 1, sharedEntities: ["Alice Smith"] });
      expect(found[0]!.score).toBeGreaterThan(0.1);
      expect(await store.contradict({ threshold: 0.99 })).toEqual([]);
    });

    it("updates content, re-links entities, moves banks and keeps dedup", async () => {
      const fact = await add("Alice Smith likes tea", "preference");
      const other = await add("Bob Jones likes coffee");
      const updated = await store.update(fact.id, {
        content: "Carol White likes tea",
        category: "people",
        tags: "drinks",
        trustDelta: 0.2,
      });
      expect(updated).toMatchObject({ content: "Carol White likes tea", category: "people", tags: "drinks" });
      expect(updated.trust).toBeCloseTo(0.7);
      expect(updated.entities).toEqual(["Carol White"]);
      expect(store.entity("alice smith")?.factCount).toBe(0);
      expect((await store.probe("carol white")).map((result) => result.id)).toEqual([fact.id]);
      expect(store.bank("preference")).toBeUndefined();
      expect(store.bank("people")?.factCount).toBe(1);
      await expect(store.update(fact.id, { content: "Bob Jones likes coffee" })).rejects.toMatchObject({
        code: "CONFLICT",
      });
      await expect(store.update(9999, { tags: "x" })).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(store.get(other.id)?.content).toBe("Bob Jones likes coffee");
    });

    it("removes a fact with its links and frees its content", async () => {
      const fact = await add("Alice Smith likes tea");
      expect(await store.remove(fact.id)).toBe(true);
      expect(await store.remove(fact.id)).toBe(false);
      expect(store.get(fact.id)).toBeUndefined();
      expect(await store.probe("alice smith")).toEqual([]);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from holographic_fact_entities`.execute(db());
      expect(rows[0]?.n).toBe(0);
      expect((await store.add({ content: "Alice Smith likes tea" })).created).toBe(true);
    });

    it("lists facts by trust with filters", async () => {
      const low = await add("low", "a");
      const high = await add("high", "a");
      await add("other", "b");
      await store.feedback(high.id, true);
      await store.feedback(low.id, false);
      expect(store.list({ category: "a" }).map((fact) => fact.content)).toEqual(["high", "low"]);
      expect(store.list({ minTrust: 0.5 }).map((fact) => fact.content)).toEqual(["high", "other"]);
      expect(store.list({ limit: 1 })).toHaveLength(1);
    });

    it("reloads the same state from the database", async () => {
      await add("Robert Paulson aka Bob joined the soap team", "people", "team");
      const tea = await add('"Bob" prefers green tea');
      await store.feedback(tea.id, true);
      const reopened = await HolographicFactStore.open({ db: db() });
      expect(reopened.size).toBe(2);
      expect(reopened.get(tea.id)).toEqual(store.get(tea.id));
      expect(reopened.entity("bob")).toEqual(store.entity("bob"));
      expect(await reopened.probe("bob")).toEqual(await store.probe("bob"));
      expect(reopened.bank("people")?.vector).toEqual(store.bank("people")?.vector);
    });

    it("re-encodes vectors of another dimension on open", async () => {
      await add("Alice Smith likes tea");
      const small = await HolographicFactStore.open({ db: db(), dim: 64 });
      expect(small.dim).toBe(64);
      expect((await small.probe("alice smith")).length).toBe(1);
      const row = await db().selectFrom("holographic_facts").select("hrr_vector").executeTakeFirstOrThrow();
      expect(row.hrr_vector?.byteLength).toBe(128);
    });

    it("keeps the index equal to the database under racing adds, updates, removes and feedback", async () => {
      const seeded = await store.addMany(
        Array.from({ length: 40 }, (_, i) => ({
          content: `Alice Smith note ${i} about Project Apollo`,
          category: `c${i % 3}`,
        })),
      );
      const ids = seeded.map((result) => result.fact.id);
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const operations: Array<Promise<unknown>> = [];
      for (let i = 0; i < 200; i++) {
        const id = ids[random(ids.length)]!;
        const kind = random(5);
        const settle = (promise: Promise<unknown>) => promise.catch((error: { code?: string }) => error.code);
        if (kind === 0)
          operations.push(
            settle(store.add({ content: `Bob Jones racing fact ${random(30)}`, category: "race" })),
          );
        else if (kind === 1)
          operations.push(
            settle(store.update(id, { content: `Carol White rewrote ${i}`, category: `c${random(3)}` })),
          );
        else if (kind === 2) operations.push(settle(store.remove(id)));
        else if (kind === 3) operations.push(settle(store.feedback(id, random(2) === 0)));
        else operations.push(settle(store.search("racing apollo")));
      }
      const outcomes = await Promise.all(operations);
      // Only the expected failures: updates/feedback of removed facts.
      for (const outcome of outcomes) {
        if (typeof outcome === "string") expect(outcome).toBe("NOT_FOUND");
      }
      await store.flush();
      const reloaded = await HolographicFactStore.open({ db: db() });
      const snapshot = (s: HolographicFactStore) =>
        s
          .list({ limit: 1000 })
          .map(({ retrievalCount: _r, ...fact }) => fact)
          .sort((a, b) => a.id - b.id);
      expect(snapshot(reloaded)).toEqual(snapshot(store));
      for (const name of ["alice smith", "bob jones", "carol white"]) {
        expect(reloaded.entity(name)).toEqual(store.entity(name));
        expect(await reloaded.probe(name, { limit: 100 })).toEqual(await store.probe(name, { limit: 100 }));
      }
      for (const category of ["c0", "c1", "c2", "race"]) {
        const live = store.bank(category);
        const fresh = reloaded.bank(category);
        expect(fresh?.factCount).toBe(live?.factCount);
        if (live && fresh) {
          // Incremental add/remove sums equal a rebuild up to float rounding: at most one phase step apart.
          for (let i = 0; i < live.vector.length; i++) {
            expect(
              Math.abs(((live.vector[i]! - fresh.vector[i]! + 32768) & 0xffff) - 32768),
            ).toBeLessThanOrEqual(1);
          }
        }
      }
    });

    it("fails writes after close but keeps what was flushed", async () => {
      const pending = store.add({ content: "written before close" });
      await store.close();
      await expect(pending).resolves.toMatchObject({ created: true });
      await expect(store.add({ content: "too late" })).rejects.toMatchObject({ code: "STORE_FAILED" });
    });
  },
  { migrate: false, setup: (db) => migrateHolographic(db) },
);
