/**
 * Regression (issue 13, item 3): NUL bytes in a title (new, PATCH, branch, import), a profile, a
 * projectId, a project name or a chat message, and `?projectId=%00` or `search?q=%00`, reached the store
 * and came back as 500/503. A malformed cookie (`x=%zz`, `engram_auth=%`) made `decodeURIComponent`
 * throw: 500 on every route, and any page on 127.0.0.1 can set such a cookie.
 *
 * Fix: every body and query is validated with a schema at the route (ids `INVALID_ID`, titles, names
 * and queries `INVALID_ARGUMENT`, numbers bounded), chat message text keeps what can be stored (NUL and
 * unpaired surrogates become U+FFFD), and a cookie that does not decode counts as absent.
 */
import { describeEachBackend } from "@engram/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createWebApp, type WebApp } from "../app/create-web-app.js";
import { parseWebConfig } from "../config/web-config.js";
import { WebClient } from "../test-support/web-client.js";

async function listen(app: WebApp): Promise<string> {
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}

describeEachBackend("web server refuses hostile input with 4xx, never 5xx", (db) => {
  let app: WebApp;
  let client: WebClient;
  let base: string;

  beforeEach(async () => {
    app = createWebApp({ config: parseWebConfig({}), db: db() });
    base = await listen(app);
    client = new WebClient(base);
    await client.init();
  });
  afterEach(async () => {
    await app.close({ drainDeadlineMs: 5_000 });
  });

  const outcome = (response: { status: number; json: { error?: { code?: string } } }) => [
    response.status,
    response.json?.error?.code,
  ];

  it("refuses titles, names, profiles and project ids holding a NUL or an unpaired surrogate", async () => {
    const id = (await client.request("POST", "/api/session/new", { title: "ok" })).json.session.id as string;
    await client.request("POST", "/api/chat/start", { sessionId: id, message: "one" });
    const cases: Array<[string, string, string, unknown, string]> = [
      ["a NUL title (new)", "POST", "/api/session/new", { title: "a\u0000b" }, "INVALID_ARGUMENT"],
      ["a lone surrogate title (new)", "POST", "/api/session/new", { title: "a\ud800" }, "INVALID_ARGUMENT"],
      ["a NUL profile", "POST", "/api/session/new", { profile: "p\u0000" }, "INVALID_ID"],
      ["a NUL projectId (new)", "POST", "/api/session/new", { projectId: "\u0000" }, "INVALID_ID"],
      ["a NUL prevSessionId", "POST", "/api/session/new", { prevSessionId: "s\u0000" }, "INVALID_ID"],
      ["a NUL title (PATCH)", "PATCH", `/api/session/${id}`, { title: "\u0000" }, "INVALID_ARGUMENT"],
      [
        "a lone surrogate projectId (PATCH)",
        "PATCH",
        `/api/session/${id}`,
        { projectId: "\udc00" },
        "INVALID_ID",
      ],
      ["a NUL title (branch)", "POST", `/api/session/${id}/branch`, { title: "x\u0000" }, "INVALID_ARGUMENT"],
      [
        "a keep past 2^53 (branch)",
        "POST",
        `/api/session/${id}/branch`,
        { keep: 2 ** 53 },
        "INVALID_ARGUMENT",
      ],
      [
        "a NUL title (import)",
        "POST",
        "/api/session/import",
        { sessionId: id, title: "\u0000" },
        "INVALID_ARGUMENT",
      ],
      ["a NUL session id (import)", "POST", "/api/session/import", { sessionId: "s\u0000" }, "INVALID_ID"],
      ["a NUL project name", "POST", "/api/projects", { name: "Garden\u0000" }, "INVALID_ARGUMENT"],
      ["a lone surrogate project name", "POST", "/api/projects", { name: "\ud83d" }, "INVALID_ARGUMENT"],
      [
        "a NUL session id (chat)",
        "POST",
        "/api/chat/start",
        { sessionId: "\u0000", message: "x" },
        "INVALID_ID",
      ],
      ["a NUL stream id (cancel)", "POST", "/api/chat/cancel", { streamId: "\u0000" }, "INVALID_ID"],
      ["a NUL projectId query", "GET", "/api/sessions?projectId=%00", undefined, "INVALID_ID"],
      ["an offset past 2^53", "GET", "/api/sessions?offset=9007199254740993", undefined, "INVALID_ARGUMENT"],
      ["a limit of 1e308", "GET", "/api/sessions?limit=1e308", undefined, "INVALID_ARGUMENT"],
      ["a NUL search", "GET", "/api/search?q=%00", undefined, "INVALID_ARGUMENT"],
      ["a repeated search", "GET", "/api/search?q=a&q=b", undefined, "INVALID_ARGUMENT"],
      ["a NUL stream id (stream)", "GET", "/api/chat/stream?streamId=%00", undefined, "INVALID_ID"],
      ["an undecodable session id", "GET", "/api/session/%ED%A0%80", undefined, "INVALID_ARGUMENT"],
      ["a NUL session id", "GET", "/api/session/%00", undefined, "INVALID_ID"],
    ];
    for (const [name, method, path, body, code] of cases) {
      expect(outcome(await client.request(method, path, body)), name).toEqual([400, code]);
    }
    // Nothing of the refused requests was written: still one session and no project.
    const sessions = (await client.request("GET", "/api/sessions")).json.sessions;
    expect(sessions.map((s: { title: string }) => s.title)).toEqual(["ok"]);
    expect((await client.request("GET", "/api/projects")).json.projects).toEqual([]);
  });

  it("keeps a chat message with a NUL or an unpaired surrogate, each replaced by U+FFFD", async () => {
    const id = (await client.request("POST", "/api/session/new", {})).json.session.id as string;
    const { reply } = await client.chat(id, "before\u0000after \ud800 end");
    expect(reply).toContain("[offline model]");
    const messages = (await client.request("GET", `/api/session/${id}`)).json.session.messages;
    expect(messages[0]).toMatchObject({ role: "user", content: "before\ufffdafter \ufffd end" });
  });

  it("treats a cookie that does not decode as absent, on every route", async () => {
    for (const cookie of [
      "x=%zz",
      "engram_auth=%",
      "engram_csrf=%ED%A0%80",
      `x=%zz; ${cookieHeader(client)}`,
    ]) {
      const auth = await fetch(`${base}/api/auth`, { headers: { cookie } });
      expect(auth.status, cookie).toBe(200);
      const list = await fetch(`${base}/api/sessions`, { headers: { cookie } });
      expect(list.status, cookie).toBe(200);
      const health = await fetch(`${base}/api/health`, { headers: { cookie } });
      expect(health.status, cookie).toBe(200);
    }
    // A malformed CSRF cookie is no CSRF cookie: a state change is refused, not a 500.
    const refused = await fetch(`${base}/api/session/new`, {
      method: "POST",
      headers: { cookie: "engram_csrf=%zz", "x-csrf-token": "%zz", "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(403);
  });
});

describeEachBackend("web server with a login token and malformed cookies", (db) => {
  it("answers 401, not 500, when the login cookie does not decode, and still accepts a good one beside a bad one", async () => {
    const app = createWebApp({ config: parseWebConfig({ token: "correct-horse-battery" }), db: db() });
    try {
      const base = await listen(app);
      for (const cookie of ["engram_auth=%", "engram_auth=%E0%A4%A", "x=%zz; engram_auth=%zz"]) {
        const response = await fetch(`${base}/api/sessions`, { headers: { cookie } });
        const body = (await response.json()) as { error: { code: string } };
        expect([response.status, body.error.code], cookie).toEqual([401, "UNAUTHORIZED"]);
      }
      const client = new WebClient(base);
      await client.init();
      await client.request("POST", "/api/login", { token: "correct-horse-battery" });
      const both = await fetch(`${base}/api/sessions`, {
        headers: { cookie: `x=%zz; ${cookieHeader(client)}` },
      });
      expect(both.status).toBe(200);
    } finally {
      await app.close({ drainDeadlineMs: 2_000 });
    }
  });
});

function cookieHeader(client: WebClient): string {
  return [...client.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
}
