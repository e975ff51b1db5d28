// Memory scopes: two stores on one database, each opened for its own scope, never see each other's
// facts, entities, aliases or banks; a database written before scopes existed keeps its facts in the
// `default` scope after migration 002.
import { migrateToLatest } from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import { sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import * as m001 from "../db/migrations/001-holographic.js";
import {
  HOLOGRAPHIC_MIGRATION_LOCK_TABLE,
  HOLOGRAPHIC_MIGRATION_TABLE,
  migrateHolographic,
} from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { HolographicFactStore } from "./holographic-fact-store.js";
import { DEFAULT_MEMORY_SCOPE } from "./memory-scope.js";

const ids = (facts: ReadonlyArray<{ id: number }>) => facts.map((fact) => fact.id).sort((a, b) => a - b);

describeEachBackend<HolographicDB>(
  "HolographicFactStore memory scopes",
  ({ db }) => {
    let alice: HolographicFactStore;
    let bob: HolographicFactStore;
    beforeEach(async () => {
      alice = await HolographicFactStore.open({ db: db(), scope: "telegram:user:1" });
      bob = await HolographicFactStore.open({ db: db(), scope: "telegram:user:2" });
    });
    afterEach(async () => {
      await alice.close();
      await bob.close();
    });

    it("allows the same fact text in two scopes, as two facts", async () => {
      const a = await alice.add({ content: "I prefer tabs over spaces" });
      const b = await bob.add({ content: "I prefer tabs over spaces" });
      expect(a.created).toBe(true);
      expect(b.created).toBe(true);
      expect(b.fact.id).not.toBe(a.fact.id);
      const rows = await db()
        .selectFrom("holographic_facts")
        .select(["scope", "content"])
        .orderBy("scope")
        .execute();
      expect(rows).toEqual([
        { scope: "telegram:user:1", content: "I prefer tabs over spaces" },
        { scope: "telegram:user:2", content: "I prefer tabs over spaces" },
      ]);
      // Dedup still holds inside a scope.
      expect((await bob.add({ content: "I prefer tabs over spaces " })).created).toBe(false);
    });

    it("never returns another scope's facts from search, probe, related, reason, contradict or list", async () => {
      const mine = await alice.addMany([
        { content: "Alice Smith prefers tabs over spaces", category: "preference" },
        { content: "Alice Smith works with Bob Jones on the Billing Service" },
        { content: "Alice Smith lives in Paris and loves croissants every morning" },
        { content: "Alice Smith moved to Tokyo last winter for a new job" },
      ]);
      await bob.addMany([
        { content: "Alice Smith prefers spaces over tabs, says Bob", category: "preference" },
        { content: "Bob Jones maintains the Billing Service with Alice Smith" },
        { content: "Alice Smith moved to Berlin in the spring for a new job" },
      ]);
      const own = new Set(mine.map((result) => result.fact.id));
      const onlyOwn = (facts: ReadonlyArray<{ id: number }>) => {
        expect(facts.length).toBeGreaterThan(0);
        for (const fact of facts) expect(own.has(fact.id)).toBe(true);
      };
      onlyOwn(await alice.search("tabs spaces Alice", { minTrust: 0 }));
      onlyOwn(await alice.probe("alice smith", { limit: 100 }));
      onlyOwn(await alice.related("bob jones", { limit: 100 }));
      onlyOwn(await alice.reason(["alice smith", "bob jones"], { limit: 100 }));
      onlyOwn(alice.list({ limit: 100 }));
      const contradictions = await alice.contradict({ threshold: 0, limit: 100 });
      onlyOwn(contradictions.flatMap((found) => [found.factA, found.factB]));
      expect(alice.size).toBe(4);
      expect(bob.size).toBe(3);
      // Banks are per scope: each counts only its own facts of a category.
      expect(alice.bank("preference")?.factCount).toBe(1);
      expect(bob.bank("general")?.factCount).toBe(2);
      expect(alice.entity("alice smith")?.factCount).toBe(4);
      expect(bob.entity("alice smith")?.factCount).toBe(3);
    });

    it("searches only its scope when the database ranks the full-text candidates", async () => {
      const searcher = await HolographicFactStore.open({
        db: db(),
        scope: "telegram:user:2",
        fullTextSource: "database",
      });
      try {
        await alice.add({ content: "The staging cluster runs Kubernetes" });
        const theirs = await searcher.add({ content: "Kubernetes is banned in production" });
        expect(ids(await searcher.search("kubernetes"))).toEqual([theirs.fact.id]);
      } finally {
        await searcher.close();
      }
    });

    it("keeps entities and aliases per scope", async () => {
      await alice.add({ content: "Robert Paulson aka Bob joined the soap team" });
      await bob.add({ content: "Robert Paulson aka Bobby runs the gym" });
      expect(alice.entity("bob")).toMatchObject({ name: "Robert Paulson", aliases: ["Bob"], factCount: 1 });
      expect(alice.entity("bobby")).toBeUndefined();
      expect(bob.entity("bobby")).toMatchObject({ name: "Robert Paulson", aliases: ["Bobby"], factCount: 1 });
      expect(bob.entity("bob")).toBeUndefined();
    });

    it("cannot update, remove or rate another scope's fact", async () => {
      const { fact } = await alice.add({ content: "Alice Smith likes tea" });
      await expect(bob.update(fact.id, { tags: "x" })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(bob.feedback(fact.id, false)).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(await bob.remove(fact.id)).toBe(false);
      expect(bob.get(fact.id)).toBeUndefined();
      expect(alice.get(fact.id)).toMatchObject({ content: "Alice Smith likes tea", trust: 0.5, tags: "" });
    });

    it("loads only its own scope when it opens", async () => {
      await alice.add({ content: "Alice Smith likes tea" });
      await bob.addMany([{ content: "Bob Jones likes coffee" }, { content: "Bob Jones likes tea" }]);
      const reopened = await HolographicFactStore.open({ db: db(), scope: "telegram:user:1" });
      const fresh = await HolographicFactStore.open({ db: db(), scope: "telegram:chat:9" });
      try {
        expect(reopened.list().map((fact) => fact.content)).toEqual(["Alice Smith likes tea"]);
        expect(reopened.entity("bob jones")).toBeUndefined();
        expect(fresh.size).toBe(0);
        expect(await fresh.search("tea", { minTrust: 0 })).toEqual([]);
      } finally {
        await reopened.close();
        await fresh.close();
      }
    });

    it("opens the default scope when none is given, and rejects an unsafe scope with INVALID_ID", async () => {
      const plain = await HolographicFactStore.open({ db: db() });
      expect(plain.scope).toBe(DEFAULT_MEMORY_SCOPE);
      await plain.close();
      for (const scope of ["", "../etc", "a/b", "x\u0000y", "s".repeat(1025)]) {
        await expect(HolographicFactStore.open({ db: db(), scope })).rejects.toMatchObject({
          code: "INVALID_ID",
        });
      }
    });
  },
  { migrate: false, setup: (db) => migrateHolographic(db) },
);

describeEachBackend<HolographicDB>(
  "migration 002 on a database written before memory scopes",
  ({ db }) => {
    it("keeps every earlier fact, entity, alias and bank in the default scope", async () => {
      // Written by the 001-era store (its SQL shapes, its constraints), then migrated.
      const legacy = await HolographicFactStore.open({ db: db(), dim: 64 }).catch((error: unknown) => error);
      expect(legacy).toMatchObject({ code: "STORE_FAILED" }); // no `scope` column yet
      await sql`insert into holographic_entities (name, key) values ('Robert Paulson', 'robert paulson')`.execute(
        db(),
      );
      await sql`insert into holographic_entity_aliases (alias_key, alias, entity_id) values ('bob', 'Bob', 1)`.execute(
        db(),
      );
      await sql`insert into holographic_facts (content, category) values ('Robert Paulson aka Bob joined the soap team', 'people'), ('I prefer tabs over spaces', 'preference')`.execute(
        db(),
      );
      await sql`insert into holographic_fact_entities (fact_id, entity_id) values (1, 1)`.execute(db());
      await sql`insert into holographic_banks (name, dim, fact_count, vector) values ('cat:people', 64, 1, ${new Uint8Array(128)})`.execute(
        db(),
      );

      expect((await migrateHolographic(db())).applied).toEqual(["002-memory-scopes"]);

      const scopes = await sql<{ kind: string; scope: string }>`
        select 'facts' as kind, scope from holographic_facts
        union all select 'entities', scope from holographic_entities
        union all select 'aliases', scope from holographic_entity_aliases
        union all select 'banks', scope from holographic_banks
      `.execute(db());
      expect(scopes.rows.length).toBe(5);
      for (const row of scopes.rows) expect(row.scope).toBe("default");

      const store = await HolographicFactStore.open({ db: db() });
      const other = await HolographicFactStore.open({ db: db(), scope: "telegram:user:7" });
      try {
        expect(store.size).toBe(2);
        expect(store.entity("bob")).toMatchObject({ name: "Robert Paulson", factCount: 1 });
        expect((await store.search("tabs", { minTrust: 0 })).map((fact) => fact.content)).toEqual([
          "I prefer tabs over spaces",
        ]);
        expect((await store.add({ content: "I prefer tabs over spaces" })).created).toBe(false);
        // The old global uniqueness is gone: another scope may hold the same text and names.
        expect(other.size).toBe(0);
        expect((await other.add({ content: "I prefer tabs over spaces" })).created).toBe(true);
        expect((await other.add({ content: "Robert Paulson aka Bob runs the gym" })).fact.entities).toEqual([
          "Robert Paulson",
        ]);
        expect(other.entity("bob")?.factCount).toBe(1);
        expect(store.entity("bob")?.factCount).toBe(1);
      } finally {
        await store.close();
        await other.close();
      }
    });
  },
  {
    migrate: false,
    // Only the shipped 001, as a database created before 002 existed has it.
    setup: (db) =>
      migrateToLatest(db, {
        migrations: { "001-holographic": m001 },
        migrationTableName: HOLOGRAPHIC_MIGRATION_TABLE,
        migrationLockTableName: HOLOGRAPHIC_MIGRATION_LOCK_TABLE,
      }),
  },
);
