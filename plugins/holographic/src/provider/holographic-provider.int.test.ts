import "reflect-metadata";
import {
  type ChatMessage,
  installPlugin,
  isMemoryInventory,
  MEMORY_PROVIDER_FACTORIES,
  MemoryManager,
  type MemoryProviderFactory,
  type ProviderInitContext,
} from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import { container } from "tsyringe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrateHolographic } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import holographicPlugin from "../index.js";
import { HolographicFactStore } from "../store/holographic-fact-store.js";
import { HolographicProvider } from "./holographic-provider.js";

const ctx: ProviderInitContext = { sessionId: "s1", platform: "cli", agentContext: "primary", extra: {} };

describeEachBackend<HolographicDB>(
  "HolographicProvider",
  ({ db }) => {
    let store: HolographicFactStore;
    let provider: HolographicProvider;
    beforeEach(async () => {
      store = await HolographicFactStore.open({ db: db() });
      provider = new HolographicProvider({ openStore: async () => store, autoExtract: true });
      await provider.initialize(ctx);
    });
    // Background writes (retrieval counters) must land before the next test truncates the tables and
    // restarts the ids, or they would bump the next test's facts.
    afterEach(async () => {
      await store.close();
    });

    it("declares local tools, prefetch and session-end extraction", () => {
      expect(provider.isAvailable()).toBe(true);
      expect(provider.capabilities).toMatchObject({
        tools: true,
        prefetch: true,
        sessionEnd: true,
        network: false,
      });
      expect(provider.getToolSchemas().map((schema) => schema.name)).toEqual(["fact_store", "fact_feedback"]);
    });

    it("lets a person list, filter and delete what it remembers, without counting it as a retrieval", async () => {
      expect(isMemoryInventory(provider)).toBe(true);
      const tabs = (await store.add({ content: "Prefers tabs over spaces", category: "user_pref" })).fact;
      await store.add({ content: "Works on the Engram project", category: "project" });
      const all = await provider.listMemories();
      expect(all.map((f) => f.content).sort()).toEqual([
        "Prefers tabs over spaces",
        "Works on the Engram project",
      ]);
      expect(all.find((f) => f.id === String(tabs.id))).toMatchObject({
        category: "user_pref",
        trust: expect.any(Number),
        createdAt: expect.any(Number),
      });
      expect((await provider.listMemories({ query: "TABS" })).map((f) => f.id)).toEqual([String(tabs.id)]);
      expect((await provider.listMemories({ query: "project" })).map((f) => f.content)).toEqual([
        "Works on the Engram project",
      ]);
      expect((await provider.listMemories({ limit: 1 })).length).toBe(1);
      expect(store.get(tabs.id)?.retrievalCount).toBe(0);

      const corrected = await provider.updateMemory(String(tabs.id), "Prefers tabs, width 4");
      expect(corrected).toMatchObject({
        id: String(tabs.id),
        content: "Prefers tabs, width 4",
        category: "user_pref",
      });
      expect(await provider.updateMemory("424242", "nothing")).toBeUndefined();
      expect(await provider.updateMemory("x", "nothing")).toBeUndefined();
      await expect(
        provider.updateMemory(String(tabs.id), "Works on the Engram project"),
      ).rejects.toMatchObject({
        code: "CONFLICT",
      });

      expect(await provider.deleteMemory("not-an-id")).toBe(false);
      expect(await provider.deleteMemory("999999")).toBe(false);
      expect(await provider.deleteMemory(String(tabs.id))).toBe(true);
      expect(await provider.deleteMemory(String(tabs.id))).toBe(false);
      expect((await provider.listMemories()).map((f) => f.content)).toEqual(["Works on the Engram project"]);
      expect(await provider.prefetch("tabs", { sessionId: "s1" })).toBe("");
    });

    it("adds, searches, probes and rates facts through the tools", async () => {
      const added = (await provider.handleToolCall("fact_store", {
        action: "add",
        content: "Alice Smith prefers tabs over spaces",
        category: "user_pref",
      })) as { created: boolean; fact: { fact_id: number; entities: string[] } };
      expect(added).toMatchObject({ created: true, fact: { entities: ["Alice Smith"] } });
      const id = added.fact.fact_id;
      const found = (await provider.handleToolCall("fact_store", { action: "search", query: "tabs" })) as {
        count: number;
        facts: Array<{ fact_id: number; score: number }>;
      };
      expect(found.count).toBe(1);
      expect(found.facts[0]?.fact_id).toBe(id);
      const probed = (await provider.handleToolCall("fact_store", {
        action: "probe",
        entity: "alice smith",
      })) as {
        count: number;
      };
      expect(probed.count).toBe(1);
      expect(
        await provider.handleToolCall("fact_feedback", { action: "helpful", fact_id: id }),
      ).toMatchObject({ fact_id: id, old_trust: 0.5, new_trust: 0.55, helpful_count: 1 });
      expect(await provider.handleToolCall("fact_store", { action: "list" })).toMatchObject({ count: 1 });
      expect(
        await provider.handleToolCall("fact_store", { action: "update", fact_id: id, tags: "editor" }),
      ).toMatchObject({ updated: true, fact: { tags: "editor" } });
      expect(
        await provider.handleToolCall("fact_store", { action: "reason", entities: ["Alice Smith"] }),
      ).toMatchObject({
        count: 1,
      });
      expect(
        await provider.handleToolCall("fact_store", { action: "related", entity: "Alice Smith" }),
      ).toMatchObject({
        count: 1,
      });
      expect(await provider.handleToolCall("fact_store", { action: "contradict" })).toMatchObject({
        count: 0,
      });
      expect(await provider.handleToolCall("fact_store", { action: "remove", fact_id: id })).toEqual({
        removed: true,
        fact_id: id,
      });
    });

    it("returns structured INVALID_ARGUMENT errors for missing or invalid arguments", async () => {
      const cases: Array<[string, Record<string, unknown>]> = [
        ["fact_store", {}],
        ["fact_store", { action: "explode" }],
        ["fact_store", { action: "add" }],
        ["fact_store", { action: "add", content: 42 }],
        ["fact_store", { action: "search" }],
        ["fact_store", { action: "search", query: "x", limit: 0 }],
        ["fact_store", { action: "probe" }],
        ["fact_store", { action: "reason", entities: [] }],
        ["fact_store", { action: "reason", entities: ["ok", 3] }],
        ["fact_store", { action: "update", fact_id: "7" }],
        ["fact_store", { action: "remove", fact_id: 1.5 }],
        ["fact_store", { action: "list", min_trust: 3 }],
        ["fact_feedback", { action: "great", fact_id: 1 }],
        ["fact_feedback", { action: "helpful" }],
      ];
      for (const [tool, args] of cases) {
        await expect(
          provider.handleToolCall(tool, args as never),
          JSON.stringify(args),
        ).rejects.toMatchObject({
          code: "INVALID_ARGUMENT",
        });
      }
      await expect(
        provider.handleToolCall("fact_feedback", { action: "helpful", fact_id: 99 }),
      ).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      await expect(provider.handleToolCall("nope", {})).rejects.toMatchObject({ code: "TOOL_NOT_HANDLED" });
    });

    it("prefetches trusted facts relevant to the query", async () => {
      const { fact } = await store.add({ content: "The deploy pipeline runs on GitHub Actions" });
      await store.add({ content: "Distrusted deploy rumour" });
      const rumour = store.list().find((item) => item.content.startsWith("Distrusted"))!;
      for (let i = 0; i < 3; i++) await store.feedback(rumour.id, false);
      const recalled = await provider.prefetch("how does the deploy work?", { sessionId: "s1" });
      expect(recalled).toBe(`- [general] ${fact.content} (fact ${fact.id}, trust 0.50)`);
      expect(await provider.prefetch("   ", { sessionId: "s1" })).toBe("");
      expect(provider.systemPromptBlock()).toContain("2 facts");
    });

    it("extracts preferences and decisions from user messages at session end", async () => {
      const messages: ChatMessage[] = [
        { role: "user", content: "I prefer tabs over spaces. Can you fix the file?" },
        { role: "assistant", content: "I prefer to ask first." },
        { role: "user", content: "We decided to release on Fridays." },
      ];
      await provider.onSessionEnd(messages);
      expect(store.list().map((fact) => [fact.content, fact.category])).toEqual(
        expect.arrayContaining([
          ["I prefer tabs over spaces.", "user_pref"],
          ["We decided to release on Fridays.", "project"],
        ]),
      );
      expect(store.size).toBe(2);
    });

    it("mirrors the builtin memory's additions only", async () => {
      await provider.onMemoryWrite("add", "user", "Prefers concise answers", {});
      await provider.onMemoryWrite("remove", "user", "Prefers concise answers", {});
      await provider.onMemoryWrite("add", "memory", "Project uses pnpm", {});
      expect(store.list().map((fact) => [fact.content, fact.category])).toEqual(
        expect.arrayContaining([
          ["Prefers concise answers", "user_pref"],
          ["Project uses pnpm", "general"],
        ]),
      );
    });

    it("routes tool calls through a MemoryManager with structured errors", async () => {
      const manager = new MemoryManager();
      manager.addProvider(provider);
      const result = await manager.handleToolCall("fact_store", { action: "add" });
      expect(result).toMatchObject({
        ok: false,
        error: { code: "INVALID_ARGUMENT", provider: "holographic" },
      });
    });
  },
  { migrate: false, setup: (db) => migrateHolographic(db) },
);

describe("holographicPlugin", () => {
  it("installs a provider factory whose providers share one store", async () => {
    const child = container.createChildContainer();
    await installPlugin(child, holographicPlugin, { config: { memory: true } });
    const [factory] = child.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
    const a = factory!(ctx);
    const b = factory!({ ...ctx, sessionId: "s2" });
    await a.initialize(ctx);
    await b.initialize({ ...ctx, sessionId: "s2" });
    await a.handleToolCall("fact_store", { action: "add", content: "Shared across sessions" });
    expect(await b.handleToolCall("fact_store", { action: "search", query: "shared" })).toMatchObject({
      count: 1,
    });
    await a.shutdown();
    await b.shutdown();
  });

  it("rejects invalid configuration with INVALID_CONFIG", async () => {
    await expect(
      installPlugin(container.createChildContainer(), holographicPlugin, { config: { dim: "big" } }),
    ).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });
});
