import type { CompletedTurn, ProviderInitContext } from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import { migrateOpenVikingServer, startOpenVikingServer } from "@engram/testkit/openviking-server";
import type { Kysely } from "kysely";
import { expect, it } from "vitest";
import { migrateOpenViking, type OpenVikingDB } from "../db/index.js";
import { OpenVikingMemoryProvider } from "../provider/openviking-memory-provider.js";
import { PostgresPendingCommitJournal } from "./postgres-pending-commit-journal.js";

const ctx = (sessionId: string): ProviderInitContext => ({
  sessionId,
  platform: "cli",
  agentContext: "primary",
  extra: {},
});
const turn = (user: string): CompletedTurn => ({ user, assistant: "Noted.", timestamp: 1_700_000_000_000 });

describeEachBackend(
  "OpenViking pending-commit journal",
  (getDb) => {
    const journal = (instanceId: string, serverUrl = "http://ov.test") =>
      new PostgresPendingCommitJournal({
        db: getDb() as unknown as Kysely<OpenVikingDB>,
        serverUrl,
        instanceId,
      });

    it("clears a marker only when the commit covered its latest sync", async () => {
      const j = journal("a");
      const first = await j.markSynced("s1");
      const second = await j.markSynced("s1");
      expect(second).toBeGreaterThan(first);
      await j.markCommitted("s1", first);
      expect(await j.pendingSessions()).toEqual(["s1"]);
      await j.markCommitted("s1", second);
      expect(await j.pendingSessions()).toEqual([]);
    });

    it("hands each leftover to exactly one of many processes claiming at once; own markers are never leftovers", async () => {
      const dead = journal("dead");
      const sessions = Array.from({ length: 40 }, (_, i) => `left-${i}`);
      for (const id of sessions) await dead.markSynced(id);
      const other = journal("dead", "http://another-server.test");
      await other.markSynced("left-0");

      // Six processes start together, then all claim at once.
      const claimers = Array.from({ length: 6 }, (_, i) => journal(`live-${i}`));
      await Promise.all(claimers.map((c) => c.start()));
      const claims = await Promise.all(claimers.map((c) => c.claimLeftovers()));
      const claimed = claims.flat().map((m) => m.sessionId);
      expect(claimed.sort()).toEqual([...sessions].sort());
      expect(await claimers[0]!.claimLeftovers()).toEqual([]);
      // The marker of the other server stays where it is.
      expect(await other.pendingSessions()).toEqual(["left-0"]);
    });

    it("a session synced by a process that died is committed once by the next process", async () => {
      const server = await startOpenVikingServer({ db: getDb() });
      try {
        const crashed = new OpenVikingMemoryProvider({
          baseUrl: server.url,
          journal: journal("crashed", server.url),
        });
        crashed.initialize(ctx("died-1"));
        await crashed.syncTurn(turn("I prefer dark roast coffee in the morning."), { sessionId: "died-1" });
        await crashed.syncTurn(turn("My name is Ada."), { sessionId: "died-1" });
        // The process dies here: no onSessionEnd, no shutdown.

        const restartedJournal = journal("restarted", server.url);
        const restarted = new OpenVikingMemoryProvider({ baseUrl: server.url, journal: restartedJournal });
        restarted.initialize(ctx("new-1"));
        await restarted.shutdown(); // waits for the background recovery started by initialize
        const again = new OpenVikingMemoryProvider({ baseUrl: server.url, journal: restartedJournal });
        again.initialize(ctx("new-2"));
        expect(await again.commitLeftoverSessions()).toEqual([]);

        const commits = server.requests.filter((r) => r.method === "POST" && r.path.endsWith("/commit"));
        expect(commits.map((r) => r.path)).toEqual(["/api/v1/sessions/died-1/commit"]);
        expect(await restartedJournal.pendingSessions()).toEqual([]);
        await server.idle();
        const recalled = await again.prefetch("which coffee roast do I prefer", { sessionId: "new-2" });
        expect(recalled).toContain("dark roast coffee");
        await again.shutdown();
      } finally {
        await server.close();
      }
    });

    it("a normal boundary commit clears the marker, so the next process has nothing to commit", async () => {
      const server = await startOpenVikingServer({ db: getDb() });
      try {
        const first = new OpenVikingMemoryProvider({
          baseUrl: server.url,
          journal: journal("p1", server.url),
        });
        first.initialize(ctx("clean-1"));
        await first.syncTurn(turn("I like tea."), { sessionId: "clean-1" });
        await first.onSessionEnd([]);
        await first.shutdown();
        const next = new OpenVikingMemoryProvider({
          baseUrl: server.url,
          journal: journal("p2", server.url),
        });
        next.initialize(ctx("clean-2"));
        expect(await next.commitLeftoverSessions()).toEqual([]);
        await next.shutdown();
        const commits = server.requests.filter((r) => r.method === "POST" && r.path.endsWith("/commit"));
        expect(commits).toHaveLength(1);
      } finally {
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
