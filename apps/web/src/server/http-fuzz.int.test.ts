/**
 * Property-based fuzzing of the web server's whole HTTP surface (issue 13): a thousand generated
 * requests per backend over every route of the server's own route table (so a new route is fuzzed
 * too), logged in and not, with and without the CSRF header. Bodies and queries are the routes'
 * well-formed requests with each field replaced, removed, given a NUL or an unpaired surrogate, or a
 * number past its range; plus malformed JSON, wrong content types, undecodable paths and queries,
 * undecodable cookies and odd headers. No answer may be a 5xx, every 4xx is a JSON error with a catalog
 * code, and the server is healthy afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { routeTable } from "@engram/sessions/http";
import { type DB, PostgresTranscriptStore } from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import { fuzzHttpRoutes } from "@engram/testkit/http-boundary";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWebApp, type WebApp } from "../app/create-web-app.js";
import { parseWebConfig } from "../config/web-config.js";
import { WebClient } from "../test-support/web-client.js";

const TOKEN = "correct-horse-battery";
const REQUESTS = 1000;

describeEachBackend("web HTTP fuzzing", (db) => {
  let app: WebApp;
  let client: WebClient;
  let uiDir: string;

  beforeAll(async () => {
    uiDir = mkdtempSync(join(tmpdir(), "engram-ui-"));
    mkdirSync(join(uiDir, "assets"));
    writeFileSync(join(uiDir, "index.html"), "<!doctype html><p>ui");
    writeFileSync(join(uiDir, "assets", "app.js"), "1");
    app = createWebApp({ config: parseWebConfig({ token: TOKEN, uiDir }), db: db() });
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    client = new WebClient(`http://127.0.0.1:${address.port}`);
    await client.init();
    await client.request("POST", "/api/login", { token: TOKEN });
  });
  afterAll(async () => {
    await app?.close({ drainDeadlineMs: 5_000 });
    rmSync(uiDir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} malformed requests over every route with coded 4xx, never a 5xx, and stays healthy`, async () => {
    // Real things to point at, so mutated requests get past the lookups into the deeper code.
    const project = (await client.request("POST", "/api/projects", { name: "Garden" })).json.project
      .id as string;
    const session = (await client.request("POST", "/api/session/new", { title: "Plans" })).json.session
      .id as string;
    const other = (await client.request("POST", "/api/session/new", { title: "Other" })).json.session
      .id as string;
    await client.chat(session, "first message");
    const transcripts = new PostgresTranscriptStore(db() as Kysely<DB>);
    await transcripts.createSession({
      id: "tg_fuzz_1",
      source: "telegram",
      chatType: "dm",
      chatId: "9",
      userId: "9",
      sessionKey: "agent:main:telegram:dm:9",
    });
    await transcripts.appendMessage("tg_fuzz_1", { role: "user", content: "from telegram" });
    await transcripts.createSession({ id: "cli_fuzz_1", source: "cli" });
    const stream = (await client.request("POST", "/api/chat/start", { sessionId: other, message: "hi" })).json
      .streamId as string;

    const cookie = [...client.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
    const csrf = client.cookies.get("engram_csrf") ?? "";
    const routes = routeTable(app.server);
    const result = await fuzzHttpRoutes({
      baseUrl: client.base,
      routes,
      params: { id: [session, other, "tg_fuzz_1", "nosuchsession"] },
      examples: {
        "GET /api/sessions": { query: { limit: "10", offset: "0", projectId: project, archived: "1" } },
        "POST /api/session/new": {
          body: { title: "New", profile: "default", projectId: project, prevSessionId: other },
        },
        "PATCH /api/session/:id": {
          body: { title: "Renamed", pinned: true, archived: false, projectId: project },
        },
        "POST /api/session/:id/undo": { body: { count: 1 } },
        "POST /api/session/:id/branch": { body: { keep: 1, title: "Fork" } },
        "POST /api/session/import": { body: { sessionId: "cli_fuzz_1", title: "Imported" } },
        "GET /api/search": { query: { q: "first" } },
        "POST /api/projects": { body: { name: "Orchard" } },
        "POST /api/chat/start": { body: { sessionId: session, message: "hello there" } },
        "GET /api/chat/stream": { query: { streamId: stream } },
        "POST /api/chat/cancel": { body: { streamId: stream } },
        "POST /api/login": { body: { token: TOKEN } },
      },
      credentials: [
        { cookie, "x-csrf-token": csrf },
        { cookie, "x-csrf-token": csrf },
        { cookie },
        { cookie: `engram_csrf=${encodeURIComponent(csrf)}`, "x-csrf-token": csrf },
        {},
      ],
      numRuns: REQUESTS,
    });
    console.log(
      `[fuzz] web [${db.backend.name}]: ${result.requests} requests over ${result.routesHit} of ${routes.length} routes, ${result.serverErrors} 5xx; statuses ${JSON.stringify(result.statuses)}`,
    );
    expect(result.requests).toBeGreaterThanOrEqual(REQUESTS);
    expect(result.serverErrors).toBe(0);
    expect(result.routesHit).toBe(routes.length);

    // Healthy afterwards: the probe answers and an ordinary chat turn still completes.
    await app.chat.idle();
    expect((await client.request("GET", "/api/health")).status).toBe(200);
    const fresh = (await client.request("POST", "/api/session/new", {})).json.session.id as string;
    const { reply } = await client.chat(fresh, "still here?");
    expect(reply).toContain("[offline model]");
  });
});
