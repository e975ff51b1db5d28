// End to end through the agent runtime: an Agent (offline model) with the OpenViking provider against
// the stand-in OpenViking server on PGlite and on real Postgres. Turns are mirrored as they complete,
// the session is committed only at its boundary through the MemoryCommitCoordinator, the server
// extracts memories, and the next session's prefetch recalls them.
import { Agent } from "@engram/agent";
import { MemoryCommitCoordinator } from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import { migrateOpenVikingServer, startOpenVikingServer } from "@engram/testkit/openviking-server";
import type { Kysely } from "kysely";
import { expect, it } from "vitest";
import { migrateOpenViking, type OpenVikingDB } from "../db/index.js";
import { PostgresPendingCommitJournal } from "../journal/index.js";
import { OpenVikingMemoryProvider } from "./openviking-memory-provider.js";

describeEachBackend(
  "Agent with the OpenViking provider",
  (getDb) => {
    it("mirrors turns, commits once at the boundary, and recalls the extracted memory in the next session", async () => {
      const server = await startOpenVikingServer({ db: getDb() });
      const journal = new PostgresPendingCommitJournal({
        db: getDb() as unknown as Kysely<OpenVikingDB>,
        serverUrl: server.url,
      });
      const agents: Agent[] = [];
      const openAgent = async (sessionId: string) => {
        const agent = new Agent({
          sessionId,
          providers: [
            new OpenVikingMemoryProvider({ baseUrl: server.url, journal, recall: { scoreThreshold: 0.3 } }),
          ],
        });
        await agent.initialize();
        agents.push(agent);
        return agent;
      };
      try {
        const coordinator = new MemoryCommitCoordinator();
        const a = await openAgent("ov_session_a");
        for (const text of ["I prefer dark roast coffee in the morning.", "What is the weather like?"]) {
          const turn = await a.runTurn(text, []);
          expect(turn.completed).toBe(true);
          await a.memory.flushPending();
          await coordinator.markTurnCompleted("ov_session_a", { agent: a });
        }
        const posts = () => server.requests.filter((r) => r.method === "POST").map((r) => r.path);
        expect(posts().filter((p) => p.endsWith("/messages/batch"))).toHaveLength(2);
        // Mirrored, not committed: nothing is extracted per turn.
        expect(posts().filter((p) => p.endsWith("/commit"))).toEqual([]);
        expect(await journal.pendingSessions()).toEqual(["ov_session_a"]);

        expect(await coordinator.commitSessionMemory("ov_session_a")).toBe(true);
        expect(await coordinator.commitSessionMemory("ov_session_a")).toBe(false);
        expect(posts().filter((p) => p.endsWith("/commit"))).toEqual([
          "/api/v1/sessions/ov_session_a/commit",
        ]);
        expect(await journal.pendingSessions()).toEqual([]);
        await server.idle();

        const b = await openAgent("ov_session_b");
        const answer = await b.runTurn("which coffee roast do I prefer", []);
        expect(answer.recalls.map((recall) => recall.provider)).toEqual(["openviking"]);
        expect(answer.recalls[0]?.text).toContain("I prefer dark roast coffee in the morning.");
        expect(answer.recalls[0]?.text).not.toContain("weather");
        expect(answer.reply).toContain("dark roast coffee");
        for (const message of answer.messages)
          expect(String(message.content)).not.toContain("<memory-context>");
      } finally {
        for (const agent of agents) await agent.memory.shutdownAll({ deadlineMs: 2_000 });
        await server.close();
      }
    });
  },
  {
    setup: async (db) => {
      await migrateOpenVikingServer(db);
      await migrateOpenViking(db);
    },
  },
);
