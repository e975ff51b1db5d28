// End to end through the agent runtime: an Agent (offline model) with the Holographic provider, on
// PGlite and on real Postgres. Memory is committed only at the session boundary, through the
// MemoryCommitCoordinator, and recalled by the next session's prefetch.
import { Agent } from "@engram/agent";
import { type JsonObject, MemoryCommitCoordinator, type ToolCallResult } from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { migrateHolographic } from "../db/migrations/index.js";
import type { HolographicDB } from "../db/schema/index.js";
import { HolographicFactStore } from "../store/holographic-fact-store.js";
import { HolographicProvider } from "./holographic-provider.js";

function okValue(result: ToolCallResult): Record<string, unknown> {
  expect(result.ok).toBe(true);
  return (result as { ok: true; value: Record<string, unknown> }).value;
}

describeEachBackend<HolographicDB>(
  "Agent with the Holographic provider",
  ({ db }) => {
    let store: HolographicFactStore;
    const agents: Agent[] = [];

    beforeEach(async () => {
      store = await HolographicFactStore.open({ db: db() });
    });
    afterEach(async () => {
      for (const agent of agents.splice(0)) await agent.memory.shutdownAll({ deadlineMs: 2_000 });
      await store.close();
    });

    async function openAgent(sessionId: string): Promise<Agent> {
      const agent = new Agent({
        sessionId,
        providers: [new HolographicProvider({ openStore: async () => store, autoExtract: true })],
      });
      await agent.initialize();
      agents.push(agent);
      return agent;
    }

    it("recalls in session B a preference stated in session A once A is committed at its boundary", async () => {
      const coordinator = new MemoryCommitCoordinator();
      const a = await openAgent("session_a");
      const first = await a.runTurn("I prefer tabs over spaces", []);
      expect(first.completed).toBe(true);
      expect(first.messages[0]).toMatchObject({ role: "user", content: "I prefer tabs over spaces" });
      await a.memory.flushPending();
      await coordinator.markTurnCompleted("session_a", { agent: a });

      // Nothing is extracted per turn: before the boundary, a new session recalls nothing.
      const early = await openAgent("session_early");
      const before = await early.runTurn("What do I prefer, tabs or spaces?", []);
      expect(before.recalls).toEqual([]);
      expect(before.reply).not.toContain("tabs over spaces");

      expect(await coordinator.hasUncommittedWork("session_a")).toBe(true);
      expect(await coordinator.commitSessionMemory("session_a")).toBe(true);
      expect(await coordinator.hasUncommittedWork("session_a")).toBe(false);
      // A second commit of the same generation is refused: nothing is committed twice.
      expect(await coordinator.commitSessionMemory("session_a")).toBe(false);

      const b = await openAgent("session_b");
      const answer = await b.runTurn("What do I prefer, tabs or spaces?", []);
      expect(answer.completed).toBe(true);
      expect(answer.recalls.map((recall) => recall.provider)).toEqual(["holographic"]);
      expect(answer.recalls[0]?.text).toContain("I prefer tabs over spaces");
      expect(answer.reply).toContain("[offline model]");
      expect(answer.reply).toContain("tabs over spaces");
      // The recalled memory reached the model but is never part of what the host persists.
      for (const message of answer.messages)
        expect(String(message.content)).not.toContain("<memory-context>");
    });

    it("routes fact_store add, search, probe, reason and contradict through the agent's memory manager", async () => {
      const agent = await openAgent("session_tools");
      const call = (args: JsonObject) => agent.memory.handleToolCall("fact_store", args);

      okValue(await call({ action: "add", content: "Alice Smith maintains the Parser project" }));
      okValue(await call({ action: "add", content: "Alice Smith and Bob Jones review the Parser project" }));
      okValue(await call({ action: "add", content: "Alice Smith never maintains the Parser project" }));

      const searched = okValue(await call({ action: "search", query: "Parser" }));
      expect(searched.count).toBe(3);
      const probed = okValue(await call({ action: "probe", entity: "Bob Jones" }));
      expect(JSON.stringify(probed)).toContain("Bob Jones review");
      const reasoned = okValue(await call({ action: "reason", entities: ["Alice Smith", "Bob Jones"] }));
      // reason ranks by the weakest link across the entities: the fact naming both comes first.
      const ranked = reasoned.facts as Array<{ content: string }>;
      expect(ranked[0]?.content).toBe("Alice Smith and Bob Jones review the Parser project");
      const contradictions = okValue(await call({ action: "contradict" }));
      expect(Array.isArray(contradictions.contradictions)).toBe(true);

      const missing = await call({ action: "probe" });
      expect(missing).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENT" } });
    });
  },
  { migrate: false, setup: (db) => migrateHolographic(db) },
);
