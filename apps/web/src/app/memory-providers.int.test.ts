/**
 * The web server with the memory provider `engram.config.json` names, composed as `main.ts` does
 * (`composeHost`, plugins by package name): OpenViking and Hindsight against the testkit's stand-in
 * servers over HTTP. A fact told in one web session is recalled in the session started from it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeHost, type EngramHost } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import { startHindsightServer } from "@engram/testkit/hindsight-server";
import { startOpenVikingServer } from "@engram/testkit/openviking-server";
import { expect, it } from "vitest";
import { parseWebConfig } from "../config/web-config.js";
import { WebClient } from "../test-support/web-client.js";
import { createWebApp, type WebApp } from "./create-web-app.js";

const WEB_DIR = fileURLToPath(new URL("../..", import.meta.url));

interface StandIn {
  readonly url: string;
  idle(): Promise<void>;
  close(): Promise<void>;
}

const cases: ReadonlyArray<{
  readonly name: string;
  readonly provider: string;
  start(): Promise<StandIn>;
  entry(url: string): object;
}> = [
  {
    name: "OpenViking",
    provider: "openviking",
    start: () => startOpenVikingServer({ apiKey: "ov-web-key" }),
    entry: (url) => ({
      plugin: "@engram/provider-openviking",
      config: { baseUrl: url, apiKey: "ov-web-key", timeoutMs: 5_000 },
    }),
  },
  {
    name: "Hindsight",
    provider: "hindsight",
    start: () => startHindsightServer(),
    entry: (url) => ({
      plugin: "@engram/provider-hindsight",
      config: { mode: "external", baseUrl: url, bankIdTemplate: "engram-{scope}" },
    }),
  },
];

async function listen(app: WebApp): Promise<string> {
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}

describeEachBackend("web server with a memory provider from engram.config.json", (db) => {
  for (const testCase of cases) {
    it(`recalls in the next session a fact told in the previous one, through the ${testCase.name} server`, async () => {
      const server = await testCase.start();
      const dir = mkdtempSync(join(tmpdir(), "engram-web-config-"));
      let host: EngramHost | undefined;
      let app: WebApp | undefined;
      try {
        writeFileSync(
          join(dir, "engram.config.json"),
          JSON.stringify({ memory: { providers: [testCase.entry(server.url)] } }),
        );
        host = await composeHost({ db: db(), cwd: dir, env: {}, appDirs: [WEB_DIR] });
        expect(host.memory.map((m) => m.providers.map((p) => p.name))).toEqual([[testCase.provider]]);
        app = createWebApp({ config: parseWebConfig({}), db: db(), host });
        const client = new WebClient(await listen(app));
        await client.init();
        const first = (await client.request("POST", "/api/session/new", {})).json.session.id as string;
        await client.chat(first, `I prefer the ${testCase.provider}-amber-lynx web theme.`);
        const second = (await client.request("POST", "/api/session/new", { prevSessionId: first })).json
          .session.id as string;
        // The boundary commit of the first session runs in the background; then the server extracts.
        const until = Date.now() + 20_000;
        while (
          (await client.request("GET", `/api/session/${first}/memory`)).json.lastCommit?.status !==
          "committed"
        ) {
          if (Date.now() > until) throw new Error("the first session was never committed");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await server.idle();
        const recalled = await client.chat(second, "Which web theme do I prefer?");
        expect(recalled.reply).toContain(`${testCase.provider}-amber-lynx`);
        const memory = recalled.events.find((e) => e.event === "memory");
        expect(memory?.data.recalls[0]).toMatchObject({ provider: testCase.provider });
      } finally {
        await app?.close({ drainDeadlineMs: 5_000 });
        await host?.close();
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
