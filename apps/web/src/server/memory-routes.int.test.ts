// The memory view's API over HTTP on a real web app: it lists and forgets the facts of the web owner's
// memory scope (Holographic), never another scope's, and refuses hostile input with coded 4xx.
import { type HolographicDB, HolographicFactStore, migrateHolographic } from "@engram/provider-holographic";
import { describeEachBackend } from "@engram/store/testing";
import type { Kysely } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createWebApp, WEB_MEMORY_SCOPE, type WebApp } from "../app/create-web-app.js";
import { parseWebConfig } from "../config/web-config.js";
import { WebClient } from "../test-support/web-client.js";

describeEachBackend("web memory API", (db) => {
  let app: WebApp;
  let client: WebClient;
  let ids: { web: number; other: number };

  beforeEach(async () => {
    const holographicDb = db() as unknown as Kysely<HolographicDB>;
    await migrateHolographic(holographicDb);
    const web = await HolographicFactStore.open({ db: holographicDb, scope: WEB_MEMORY_SCOPE });
    const other = await HolographicFactStore.open({ db: holographicDb, scope: "telegram:someone-else" });
    ids = {
      web: (await web.add({ content: "Prefers tabs over spaces", category: "user_pref" })).fact.id,
      other: (await other.add({ content: "Someone else's secret", category: "general" })).fact.id,
    };
    await web.add({ content: "Works on the Engram project", category: "project" });
    await web.close();
    await other.close();
    app = createWebApp({ config: parseWebConfig({}), db: db() });
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    client = new WebClient(`http://127.0.0.1:${address.port}`);
    await client.init();
  });
  afterEach(async () => {
    await app.close({ drainDeadlineMs: 5_000 });
  });

  it("lists the owner's facts with provider, trust and time, filters by text, and never shows another scope", async () => {
    const all = await client.request("GET", "/api/memory");
    expect(all.status).toBe(200);
    expect(all.json.providers).toEqual([
      { name: "holographic", canList: true, canDelete: true, canEdit: true },
    ]);
    expect(all.json.facts.map((f: { content: string }) => f.content).sort()).toEqual([
      "Prefers tabs over spaces",
      "Works on the Engram project",
    ]);
    expect(all.json.facts[0]).toMatchObject({
      provider: "holographic",
      trust: expect.any(Number),
      createdAt: expect.any(Number),
    });
    const filtered = await client.request("GET", "/api/memory?q=tabs");
    expect(filtered.json.facts.map((f: { id: string }) => f.id)).toEqual([String(ids.web)]);
    expect(JSON.stringify((await client.request("GET", "/api/memory?q=secret")).json.facts)).toBe("[]");
  });

  it("forgets a fact with CSRF, answers 404 for another scope's fact or an unknown provider", async () => {
    expect((await client.request("DELETE", `/api/memory/holographic/${ids.other}`)).json.error.code).toBe(
      "NOT_FOUND",
    );
    expect((await client.request("DELETE", `/api/memory/nosuch/${ids.web}`)).json.error.code).toBe(
      "NOT_FOUND",
    );
    client.csrf = false;
    expect((await client.request("DELETE", `/api/memory/holographic/${ids.web}`)).status).toBe(403);
    client.csrf = true;
    expect((await client.request("DELETE", `/api/memory/holographic/${ids.web}`)).status).toBe(204);
    expect((await client.request("DELETE", `/api/memory/holographic/${ids.web}`)).status).toBe(404);
    const left = await client.request("GET", "/api/memory");
    expect(left.json.facts.map((f: { content: string }) => f.content)).toEqual([
      "Works on the Engram project",
    ]);
  });

  it("corrects a fact's text, 404 for another scope's fact, 409 for text another fact has", async () => {
    const patched = await client.request("PATCH", `/api/memory/holographic/${ids.web}`, {
      content: "Prefers tabs, width 4",
    });
    expect(patched.json.fact).toMatchObject({ id: String(ids.web), content: "Prefers tabs, width 4" });
    const other = await client.request("PATCH", `/api/memory/holographic/${ids.other}`, {
      content: "mine now",
    });
    expect([other.status, other.json.error.code]).toEqual([404, "NOT_FOUND"]);
    const taken = await client.request("PATCH", `/api/memory/holographic/${ids.web}`, {
      content: "Works on the Engram project",
    });
    expect([taken.status, taken.json.error.code]).toEqual([409, "CONFLICT"]);
    const empty = await client.request("PATCH", `/api/memory/holographic/${ids.web}`, { content: "" });
    expect([empty.status, empty.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const extra = await client.request("PATCH", `/api/memory/holographic/${ids.web}`, {
      content: "x",
      trust: 1,
    });
    expect([extra.status, extra.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
  });

  it("refuses hostile input with coded 4xx", async () => {
    const long = await client.request("GET", `/api/memory?q=${"x".repeat(201)}`);
    expect([long.status, long.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const nul = await client.request("GET", "/api/memory?q=%00");
    expect([nul.status, nul.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const limit = await client.request("GET", "/api/memory?limit=0");
    expect([limit.status, limit.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const badId = await client.request("DELETE", "/api/memory/holographic/..%2F1");
    expect([badId.status, badId.json.error.code]).toEqual([400, "INVALID_ID"]);
  });
});
