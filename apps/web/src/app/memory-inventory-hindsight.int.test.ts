/**
 * The memory view's API with Hindsight named in `engram.config.json` (composed as `main.ts` does),
 * against the testkit's Hindsight stand-in over HTTP: a fact told in a web session is listed by
 * `GET /api/memory` with its source session, another scope's bank is never listed nor deletable, and
 * `PATCH` corrects it and `DELETE /api/memory/hindsight/:id` forgets it for good.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeHost, type EngramHost } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import { type HindsightServer, startHindsightServer } from "@engram/testkit/hindsight-server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { parseWebConfig } from "../config/web-config.js";
import { WebClient } from "../test-support/web-client.js";
import { createWebApp, WEB_MEMORY_SCOPE, type WebApp } from "./create-web-app.js";

const WEB_DIR = fileURLToPath(new URL("../..", import.meta.url));

interface ListedFact {
  id: string;
  provider: string;
  content: string;
  sourceSessionId?: string | null;
  createdAt?: number | null;
}

describeEachBackend("web memory API with Hindsight from engram.config.json", (db) => {
  let server: HindsightServer;
  let dir: string;
  let host: EngramHost | undefined;
  let app: WebApp | undefined;
  let client: WebClient;

  beforeEach(async () => {
    server = await startHindsightServer();
    dir = mkdtempSync(join(tmpdir(), "engram-web-hindsight-"));
    writeFileSync(
      join(dir, "engram.config.json"),
      JSON.stringify({
        memory: {
          providers: [
            {
              plugin: "@engram/provider-hindsight",
              config: { mode: "external", baseUrl: server.url, bankIdTemplate: "engram-{scope}" },
            },
          ],
        },
      }),
    );
    host = await composeHost({ db: db(), cwd: dir, env: {}, appDirs: [WEB_DIR] });
    app = createWebApp({ config: parseWebConfig({}), db: db(), host });
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    client = new WebClient(`http://127.0.0.1:${address.port}`);
    await client.init();
  });
  afterEach(async () => {
    await app?.close({ drainDeadlineMs: 5_000 });
    await host?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists a fact told in a web session, never another scope's, corrects it and deletes it for good", async () => {
    // Someone else's bank on the same server (another memory scope of the same template).
    const seeded = await fetch(`${server.url}/v1/default/banks/engram-someone-else/memories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ content: "Someone else's locker code is 9931." }], async: false }),
    });
    expect(seeded.status).toBe(200);
    const [otherUnit] = (
      (await (
        await fetch(`${server.url}/v1/default/banks/engram-someone-else/memories/list?q=locker`)
      ).json()) as { items: { id: string }[] }
    ).items;
    expect(otherUnit).toBeDefined();

    const first = (await client.request("POST", "/api/session/new", {})).json.session.id as string;
    await client.chat(first, "I prefer the violet-heron web theme.");
    await client.request("POST", "/api/session/new", { prevSessionId: first });
    // The boundary commit of the first session runs in the background; then the server extracts.
    const until = Date.now() + 20_000;
    while (
      (await client.request("GET", `/api/session/${first}/memory`)).json.lastCommit?.status !== "committed"
    ) {
      if (Date.now() > until) throw new Error("the first session was never committed");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await server.idle();

    const listed = await client.request("GET", "/api/memory");
    expect(listed.status).toBe(200);
    expect(listed.json.providers).toEqual([
      { name: "hindsight", canList: true, canDelete: true, canEdit: true },
    ]);
    const facts = listed.json.facts as ListedFact[];
    const heron = facts.find((fact) => fact.content === "I prefer the violet-heron web theme.");
    expect(heron).toMatchObject({
      provider: "hindsight",
      sourceSessionId: first,
      createdAt: expect.any(Number),
    });
    // Listed once (the raw fact), not again as the observation derived from it.
    expect(facts.filter((fact) => fact.content === "I prefer the violet-heron web theme.")).toHaveLength(1);
    expect(JSON.stringify(facts)).not.toContain("9931");
    // The list asked the owner's bank, nothing else.
    const listPaths = server.requests
      .filter((request) => request.path.endsWith("/memories/list"))
      .map((request) => request.path);
    expect(listPaths).toContain(`/v1/default/banks/engram-${WEB_MEMORY_SCOPE}/memories/list`);
    expect(listPaths.filter((path) => !path.includes(`engram-${WEB_MEMORY_SCOPE}/`))).toEqual([
      "/v1/default/banks/engram-someone-else/memories/list",
    ]);

    const searched = await client.request("GET", "/api/memory?q=violet-heron");
    expect((searched.json.facts as ListedFact[]).every((fact) => fact.content.includes("violet-heron"))).toBe(
      true,
    );
    expect(
      (await client.request("GET", "/api/memory?q=no-such-fact-anywhere")).json.facts as ListedFact[],
    ).toEqual([]);

    // Another scope's fact is not the owner's to delete; it stays on the server.
    const foreign = await client.request("DELETE", `/api/memory/hindsight/${otherUnit?.id}`);
    expect([foreign.status, foreign.json.error.code]).toEqual([404, "NOT_FOUND"]);
    const stillThere = (await (
      await fetch(`${server.url}/v1/default/banks/engram-someone-else/memories/list?q=locker`)
    ).json()) as { items: { id: string }[] };
    expect(stillThere.items).toContainEqual(expect.objectContaining({ id: otherUnit?.id }));

    // Correcting: the owner's fact changes; another scope's fact is a 404 and stays as it was.
    const patched = await client.request("PATCH", `/api/memory/hindsight/${heron?.id}`, {
      content: "I prefer the violet-heron dark web theme.",
    });
    expect(patched.status).toBe(200);
    expect(patched.json.fact).toMatchObject({
      id: heron?.id,
      provider: "hindsight",
      content: "I prefer the violet-heron dark web theme.",
    });
    const foreignPatch = await client.request("PATCH", `/api/memory/hindsight/${otherUnit?.id}`, {
      content: "mine now",
    });
    expect([foreignPatch.status, foreignPatch.json.error.code]).toEqual([404, "NOT_FOUND"]);
    expect(JSON.stringify((await client.request("GET", "/api/memory?q=dark")).json.facts)).toContain(
      "violet-heron dark",
    );

    client.csrf = false;
    expect((await client.request("DELETE", `/api/memory/hindsight/${heron?.id}`)).status).toBe(403);
    client.csrf = true;
    expect((await client.request("DELETE", `/api/memory/hindsight/${heron?.id}`)).status).toBe(204);
    expect((await client.request("DELETE", `/api/memory/hindsight/${heron?.id}`)).status).toBe(404);
    // Hindsight deletes by document: the session's other facts (the offline model's echo) go too.
    const after = (await client.request("GET", "/api/memory")).json.facts as ListedFact[];
    expect(JSON.stringify(after)).not.toContain("violet-heron");
    const recalled = await fetch(
      `${server.url}/v1/default/banks/engram-${WEB_MEMORY_SCOPE}/memories/recall`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "Which web theme do I prefer? violet heron" }),
      },
    );
    expect(JSON.stringify(await recalled.json())).not.toContain("violet-heron");
  });
});
