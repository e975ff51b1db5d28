/**
 * Memory providers chosen by configuration, through the real gateway executable: `ENGRAM_CONFIG`
 * names an `engram.config.json` whose plugins are loaded by package name. OpenViking and Hindsight run
 * against the testkit's stand-in servers over HTTP; a fact told in one session is recalled in the
 * next through that provider alone. Then Holographic next to a Hindsight whose server accepts
 * connections and never answers: the hung provider costs its own recall only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HindsightServer, startHindsightServer } from "@engram/testkit/hindsight-server";
import { type OpenVikingServerHandle, startOpenVikingServer } from "@engram/testkit/openviking-server";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { describeE2E } from "./harness/index.js";

/** A first start on a loaded machine (PGlite initdb, plugin imports) may take a while. */
const START_TIMEOUT_MS = 120_000;

const dm = (userId: string) => ({ platform: "telegram", chatId: userId, chatType: "dm", userId });

/** Writes an engram.config.json naming `providers` into a fresh folder; returns its path. */
function configFile(providers: readonly object[]): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "engram-e2e-config-"));
  const path = join(dir, "engram.config.json");
  writeFileSync(path, JSON.stringify({ memory: { providers } }));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describeE2E(
  "gateway with OpenViking memory from engram.config.json",
  (gateway) => {
    let server: OpenVikingServerHandle;
    let config: { path: string; remove: () => void };
    beforeAll(async () => {
      server = await startOpenVikingServer({ apiKey: "ov-e2e-key" });
      config = configFile([
        {
          plugin: "@engram/provider-openviking",
          config: { baseUrl: server.url, apiKey: "ov-e2e-key", timeoutMs: 5_000 },
        },
      ]);
      await gateway().start({ ENGRAM_CONFIG: config.path });
    }, START_TIMEOUT_MS);
    afterAll(async () => {
      await gateway().stop();
      await server?.close();
      config?.remove();
    });

    it("recalls in the next session a fact told in the previous one, through the OpenViking server", async () => {
      await gateway().say(dm("7101"), "I prefer the viking-solarized-indigo editor theme.");
      const fresh = await gateway().say(dm("7101"), "/new");
      // The commit at /new hands the session to the server, which extracts in the background.
      await server.idle();
      const answer = await gateway().say(dm("7101"), "Which editor theme do I prefer?");
      expect(answer.sessionId).toBe(fresh.sessionId);
      expect(answer.reply).toContain("From memory I recall:");
      expect(answer.reply).toContain("viking-solarized-indigo");
      expect(server.requests.some((r) => r.method === "POST" && r.path.includes("/commit"))).toBe(true);
    });
  },
  { manualStart: true },
);

describeE2E(
  "gateway with Hindsight memory from engram.config.json",
  (gateway) => {
    let server: HindsightServer;
    let config: { path: string; remove: () => void };
    beforeAll(async () => {
      server = await startHindsightServer();
      config = configFile([
        {
          plugin: "@engram/provider-hindsight",
          // One bank per person: the host's memory scope.
          config: { mode: "external", baseUrl: server.url, bankIdTemplate: "engram-{scope}" },
        },
      ]);
      await gateway().start({ ENGRAM_CONFIG: config.path });
    }, START_TIMEOUT_MS);
    afterAll(async () => {
      await gateway().stop();
      await server?.close();
      config?.remove();
    });

    it("recalls in the next session a fact told in the previous one, through the Hindsight server, and not for someone else", async () => {
      await gateway().say(dm("7201"), "I prefer the hindsight-mauve-lagoon editor theme.");
      await gateway().say(dm("7201"), "/new");
      const retainedPaths = () =>
        server.requests.filter((r) => r.method === "POST" && r.path.endsWith("/memories")).map((r) => r.path);
      // The provider's retain writer sends in the background after the boundary: wait until the
      // server has the request (then until it has processed it) before asking in the new session.
      await vi.waitFor(
        () => expect(retainedPaths()).toContain("/v1/default/banks/engram-telegram-user-7201/memories"),
        { timeout: 15_000, interval: 50 },
      );
      await server.idle();
      const answer = await gateway().say(dm("7201"), "Which editor theme do I prefer?");
      expect(answer.reply).toContain("From memory I recall:");
      expect(answer.reply).toContain("hindsight-mauve-lagoon");
      const other = await gateway().say(dm("7202"), "Which editor theme do I prefer?");
      expect(other.reply).not.toContain("hindsight-mauve-lagoon");
    });
  },
  { manualStart: true },
);

describeE2E(
  "gateway with Holographic and a hung Hindsight",
  (gateway) => {
    let hung: Server;
    const sockets = new Set<Socket>();
    let connections = 0;
    let config: { path: string; remove: () => void };
    beforeAll(async () => {
      // Accepts every connection and never answers a byte.
      hung = createServer((socket) => {
        connections++;
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
      const address = hung.address();
      if (typeof address !== "object" || address === null) throw new Error("no address");
      config = configFile([
        { plugin: "@engram/provider-holographic", config: { autoExtract: true } },
        {
          plugin: "@engram/provider-hindsight",
          config: {
            mode: "external",
            baseUrl: `http://127.0.0.1:${address.port}`,
            timeouts: { requestMs: 500, retainWaitMs: 200, shutdownMs: 500 },
          },
        },
      ]);
      await gateway().start({ ENGRAM_CONFIG: config.path });
    }, START_TIMEOUT_MS);
    afterAll(async () => {
      await gateway().stop();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
      config?.remove();
    });

    it("still answers and recalls through Holographic while Hindsight's server never answers", async () => {
      await gateway().say(dm("7301"), "I prefer the ochre-heron colour scheme.");
      await gateway().say(dm("7301"), "/new");
      const started = Date.now();
      const answer = await gateway().say(dm("7301"), "Which colour scheme do I prefer?");
      expect(answer.reply).toContain("From memory I recall:");
      expect(answer.reply).toContain("ochre-heron");
      // Bounded by Hindsight's own timeouts and the manager's hook budget, never by the hung server.
      expect(Date.now() - started).toBeLessThan(15_000);
      // Hindsight did run, and did try its server.
      expect(connections).toBeGreaterThan(0);
    });
  },
  { manualStart: true },
);
