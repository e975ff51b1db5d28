// The gateway over HTTP with the real agent (offline model) and the Holographic provider, on PGlite
// and Postgres: memory is committed at `/new` through the coordinator and recalled after it.
import type { ChatMessage, SessionSwitchOptions } from "@engram/core";
import { MemoryCommitCoordinator, MemoryProvider } from "@engram/core";
import {
  type HolographicDB,
  HolographicFactStore,
  HolographicProvider,
  migrateHolographic,
} from "@engram/provider-holographic";
import { AgentTurnRunner, type AgentTurnSession } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import type { Kysely } from "kysely";
import { afterEach, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";

const TOKEN = "test-token-0123456789";
const source = { platform: "telegram", chatId: "7", chatType: "dm", userId: "7" };
const config = parseGatewayConfig({ token: TOKEN, resetPolicy: { mode: "idle", idleMinutes: 600 } });

/** Holographic, but the first session end fails (a provider outage at the boundary). */
class FailingOnceProvider extends HolographicProvider {
  failures = 1;
  override async onSessionEnd(messages: readonly ChatMessage[]): Promise<void> {
    if (this.failures-- > 0) throw new Error("provider outage");
    return super.onSessionEnd(messages);
  }
}

/** Records what the runner tells a session's providers. */
class RecordingProvider extends MemoryProvider {
  readonly name = "recording";
  readonly switches: Array<{ newSessionId: string; parentSessionId?: string | undefined; reason: string }> =
    [];
  isAvailable(): boolean {
    return true;
  }
  initialize(): void {}
  getToolSchemas() {
    return [];
  }
  override onSessionSwitch(newSessionId: string, options: SessionSwitchOptions): void {
    this.switches.push({ newSessionId, parentSessionId: options.parentSessionId, reason: options.reason });
  }
}

describeEachBackend(
  "gateway with the agent and Holographic memory",
  (db) => {
    let gateway: Gateway | undefined;
    let store: HolographicFactStore | undefined;

    afterEach(async () => {
      await gateway?.close({ drainDeadlineMs: 5000 });
      await store?.close();
      gateway = undefined;
      store = undefined;
    });

    async function start(
      g: Gateway,
    ): Promise<(text: string) => Promise<{ sessionId: string; reply: string }>> {
      gateway = g;
      await g.server.listen({ host: "127.0.0.1", port: 0 });
      const address = g.server.server.address();
      if (typeof address !== "object" || address === null) throw new Error("no address");
      const base = `http://127.0.0.1:${address.port}`;
      return async (text) => {
        const res = await fetch(`${base}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ source, text }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { sessionId: string; reply: string };
      };
    }

    it("answers a normal turn with the offline model", async () => {
      const post = await start(createGateway({ config, db: db() }));
      const answer = await post("hello there");
      expect(answer.reply).toContain("[offline model]");
      const messages = await gateway!.transcripts.getMessages(answer.sessionId);
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    });

    it("recalls after /new a preference told in the DM before it", async () => {
      const post = await start(createGateway({ config, db: db() }));
      const first = await post("I prefer tabs over spaces");
      const reset = await post("/new");
      expect(reset.sessionId).not.toBe(first.sessionId);
      expect(await gateway!.coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
      const answer = await post("What do I prefer, tabs or spaces?");
      expect(answer.sessionId).toBe(reset.sessionId);
      expect(answer.reply).toContain("[offline model]");
      expect(answer.reply).toContain("tabs over spaces");
    });

    it("reports /new and /reset switches with their reason and the reset flag", async () => {
      const coordinator = new MemoryCommitCoordinator();
      store = await HolographicFactStore.open({ db: db() as unknown as Kysely<HolographicDB> });
      const opened = store;
      const switches: unknown[] = [];
      /** Holographic that records the switches it is told about (what every provider hears). */
      class SwitchRecordingProvider extends HolographicProvider {
        override onSessionSwitch(newSessionId: string, options: SessionSwitchOptions): void {
          const { parentSessionId, reset, reason } = options;
          switches.push({ newSessionId, parentSessionId, reset, reason });
        }
      }
      const runner = new AgentTurnRunner({
        coordinator,
        providers: () => [new SwitchRecordingProvider({ openStore: async () => opened, autoExtract: true })],
      });
      const post = await start(createGateway({ config, db: db(), coordinator, runner }));
      const a = await post("hello");
      const b = await post("/new");
      const c = await post("/reset");
      expect(switches).toEqual([
        { newSessionId: b.sessionId, parentSessionId: a.sessionId, reset: true, reason: "new_session" },
        { newSessionId: c.sessionId, parentSessionId: b.sessionId, reset: true, reason: "reset" },
      ]);
    });

    it("builds a session's providers with its source, passed on to the session a switch leads to", async () => {
      const coordinator = new MemoryCommitCoordinator();
      const built: Array<{ session: AgentTurnSession; provider: RecordingProvider }> = [];
      const runner = new AgentTurnRunner({
        coordinator,
        providers: (session) => {
          const provider = new RecordingProvider();
          built.push({ session, provider });
          return [provider];
        },
      });
      const post = await start(createGateway({ config, db: db(), coordinator, runner }));
      const first = await post("hello");
      const second = await post("/new");
      // The new session continues the key: built at the switch with the parent's source, and told.
      expect(built.map((entry) => entry.session)).toEqual([
        { sessionId: first.sessionId, source: expect.objectContaining(source) },
        { sessionId: second.sessionId, source: expect.objectContaining(source) },
      ]);
      expect(built[1]!.provider.switches).toEqual([
        { newSessionId: second.sessionId, parentSessionId: first.sessionId, reason: "new_session" },
      ]);
      await post("hello again");
      expect(built).toHaveLength(2);

      // A switch carries the key's source, so a session whose parent ran no turn in this process
      // (after a restart) gets its agent, with its owner's memory scope, at the switch itself.
      await runner.onSessionSwitch("after-restart", {
        source: { ...source, chatType: "dm" },
        parentSessionId: "before-restart",
        reset: true,
        reason: "new_session",
      });
      expect(built[2]!.session).toEqual({
        sessionId: "after-restart",
        source: expect.objectContaining(source),
      });
      expect(built[2]!.provider.switches).toEqual([
        { newSessionId: "after-restart", parentSessionId: "before-restart", reason: "new_session" },
      ]);
    });

    it("retries a failed boundary commit at the next boundary instead of losing it", async () => {
      const coordinator = new MemoryCommitCoordinator();
      store = await HolographicFactStore.open({ db: db() as unknown as Kysely<HolographicDB> });
      const opened = store;
      let provider: FailingOnceProvider | undefined;
      const runner = new AgentTurnRunner({
        coordinator,
        providers: () => {
          // Only the first session's provider fails (once).
          const p = new FailingOnceProvider({ openStore: async () => opened, autoExtract: true });
          if (provider) p.failures = 0;
          provider ??= p;
          return [p];
        },
      });
      const post = await start(createGateway({ config, db: db(), coordinator, runner }));
      const first = await post("I prefer tabs over spaces");
      await post("/new");
      expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(true);
      const unrecalled = await post("What do I prefer, tabs or spaces?");
      expect(unrecalled.reply).not.toContain("tabs over spaces");

      await post("/new");
      expect(await coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
      const recalled = await post("What do I prefer, tabs or spaces?");
      expect(recalled.reply).toContain("tabs over spaces");
    });
  },
  { setup: (database) => migrateHolographic(database) },
);
