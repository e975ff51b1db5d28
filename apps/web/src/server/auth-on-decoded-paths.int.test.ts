/**
 * Regression (issue 13, item 1): the login and CSRF checks ran only when the raw URL started with
 * `/api/`, while Fastify routes on the decoded path, so `GET /%61pi/sessions`,
 * `/%61pi/messaging/session/<id>`, `/%61pi/events` and `POST /%61pi/session/new` succeeded with no
 * cookie and no CSRF token. The UI fallback also served index.html for API paths spelled that way.
 *
 * Fix: the API is an encapsulated `/api` scope; its protected routes sit in a nested scope whose
 * `onRequest` hooks require the login and, for state changes, the CSRF double submit. This test walks
 * the server's own route table (a route added later is covered without touching it): every route but
 * the public ones answers 401 without the login cookie and 403 without the CSRF header (state
 * changes), under every spelling of its path that routes to it; a spelling that routes nowhere gets a
 * JSON 404, never the UI page.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { routeTable } from "@engram/sessions/http";
import { describeEachBackend } from "@engram/store/testing";
import { pathSpellings, rawHttpRequest } from "@engram/testkit/http-boundary";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWebApp, type WebApp } from "../app/create-web-app.js";
import { parseWebConfig } from "../config/web-config.js";
import { WebClient } from "../test-support/web-client.js";

const TOKEN = "correct-horse-battery";
/** The UI files of the fixture; the static routes serving them (and `/`) are public. */
const UI_FILES = ["index.html", "assets/app.js"];
const PUBLIC_API = new Set(["GET /api/health", "HEAD /api/health", "GET /api/auth", "HEAD /api/auth"]);
/** Public, but a state change: the CSRF double submit applies. */
const CSRF_ONLY = new Set(["POST /api/login"]);
/** Spellings that certainly route to the route (Fastify decodes %-encoded letters). */
const ROUTED = new Set([
  "as registered",
  "first letter %-encoded",
  "first segment %-encoded",
  "every letter %-encoded (upper-case hex)",
  "last segment %-encoded",
]);

describeEachBackend(
  "web auth on every route and spelling",
  (db) => {
    let app: WebApp;
    let base: string;
    let uiDir: string;
    let loggedIn: Record<string, string>;
    let sessionId: string;

    beforeAll(async () => {
      uiDir = mkdtempSync(join(tmpdir(), "engram-ui-"));
      mkdirSync(join(uiDir, "assets"));
      for (const file of UI_FILES)
        writeFileSync(join(uiDir, file), file.endsWith(".html") ? "<!doctype html><p>ui" : "1");
      app = createWebApp({ config: parseWebConfig({ token: TOKEN, uiDir }), db: db() });
      await app.server.listen({ host: "127.0.0.1", port: 0 });
      const address = app.server.server.address();
      if (typeof address !== "object" || address === null) throw new Error("no address");
      base = `http://127.0.0.1:${address.port}`;
      const client = new WebClient(base);
      await client.init();
      expect((await client.request("POST", "/api/login", { token: TOKEN })).status).toBe(204);
      sessionId = (await client.request("POST", "/api/session/new", { title: "kept" })).json.session.id;
      const cookie = [...client.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
      loggedIn = { cookie };
    });
    afterAll(async () => {
      await app?.close({ drainDeadlineMs: 2_000 });
      rmSync(uiDir, { recursive: true, force: true });
    });

    const isPublic = (method: string, url: string) =>
      PUBLIC_API.has(`${method} ${url}`) || url === "/" || UI_FILES.some((file) => url === `/${file}`);
    const codeOf = (json: unknown) => (json as { error?: { code?: string } } | undefined)?.error?.code;

    it("lists its routes: the API, the event streams and the UI files", () => {
      const routes = routeTable(app.server).map((r) => `${r.method} ${r.url}`);
      expect(routes).toEqual(
        expect.arrayContaining([
          "GET /api/sessions",
          "POST /api/session/new",
          "GET /api/messaging/session/:id",
          "GET /api/events",
          "POST /api/login",
          "GET /index.html",
        ]),
      );
    });

    it("answers 401 without the login and 403 without the CSRF header on every protected route, however spelled", async () => {
      const routes = routeTable(app.server).filter((r) => !isPublic(r.method, r.url));
      expect(routes.length).toBeGreaterThan(15);
      let checked = 0;
      for (const route of routes) {
        const key = `${route.method} ${route.url}`;
        const concrete = route.url.replace(/:([A-Za-z0-9_]+)/g, sessionId);
        const stateChange = route.method !== "GET" && route.method !== "HEAD";
        // Without the login cookie (the CSRF pair present, so only the login is missing), then logged in
        // without the CSRF header. The login route only has the second check.
        const attempts: Array<[string, Record<string, string>, string]> = [];
        if (!CSRF_ONLY.has(key)) attempts.push(["no login", {}, "401 UNAUTHORIZED"]);
        if (stateChange) attempts.push(["no CSRF header", loggedIn, "403 FORBIDDEN"]);
        for (const [what, headers, expected] of attempts) {
          for (const spelling of pathSpellings(concrete)) {
            const response = await rawHttpRequest(base, {
              method: route.method,
              path: spelling.path,
              headers: { ...headers, ...(stateChange ? { "content-type": "application/json" } : {}) },
              ...(stateChange ? { body: JSON.stringify({ title: "must not run", token: TOKEN }) } : {}),
            });
            // A HEAD answer has no body: its status tells.
            const head = route.method === "HEAD";
            const outcome = head ? String(response.status) : `${response.status} ${codeOf(response.json)}`;
            const wanted = head ? expected.slice(0, 3) : expected;
            const label = `${key} with ${what} as ${spelling.name} (${spelling.path})`;
            if (ROUTED.has(spelling.name)) expect(outcome, label).toBe(wanted);
            else expect([wanted, head ? "404" : "404 NOT_FOUND"], `${label}: ${outcome}`).toContain(outcome);
            expect(String(response.headers["content-type"]), label).toContain("application/json");
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(300);
      // No handler ran: the one session created in setup is still the only one, with its title.
      const client = new WebClient(base);
      client.cookies.set(
        "engram_auth",
        decodeURIComponent(/engram_auth=([^;]*)/.exec(loggedIn.cookie ?? "")?.[1] ?? ""),
      );
      const listed = (await client.request("GET", "/api/sessions")).json.sessions;
      expect(listed.map((s: { title: string }) => s.title)).toEqual(["kept"]);
    });

    it("serves the UI for its own paths but a JSON 404 for API paths spelled in ways that route nowhere", async () => {
      const page = await rawHttpRequest(base, { method: "GET", path: "/some/client/route" });
      expect([page.status, page.text]).toEqual([200, "<!doctype html><p>ui"]);
      for (const path of [
        "/%61pi/nope",
        "//api/sessions",
        "/API/sessions",
        "/./api/sessions",
        "/x/../api/sessions",
        "/api",
      ]) {
        const response = await rawHttpRequest(base, { method: "GET", path });
        expect([response.status, codeOf(response.json)], path).toEqual([404, "NOT_FOUND"]);
      }
    });

    it("accepts the login cookie on a spelled path (the check is not refusing everything)", async () => {
      const response = await rawHttpRequest(base, {
        method: "GET",
        path: "/%61pi/sessions",
        headers: loggedIn,
      });
      expect(response.status).toBe(200);
    });
  },
  // One server and one login for the whole file: the session made in beforeAll must survive.
  { truncateBeforeEach: false },
);
