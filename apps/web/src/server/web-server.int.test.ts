import {
  type DB,
  listenForTranscriptChanges,
  PostgresTranscriptStore,
  PostgresWebSessionStore,
} from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import { type Kysely, sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createWebApp, WEB_MEMORY_SCOPE, type WebApp } from "../app/create-web-app.js";
import { parseWebConfig } from "../config/web-config.js";
import { GatedModel } from "../test-support/gated-model.js";
import { WebClient } from "../test-support/web-client.js";

async function listen(app: WebApp): Promise<string> {
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}

async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeEachBackend("web server over HTTP", (db) => {
  let app: WebApp;
  let client: WebClient;

  beforeEach(async () => {
    app = createWebApp({ config: parseWebConfig({}), db: db(), messagingPollMs: 100 });
    client = new WebClient(await listen(app));
    await client.init();
  });
  afterEach(async () => {
    await app.close({ drainDeadlineMs: 5_000 });
  });

  const newSession = async (body: Record<string, unknown> = {}) => {
    const created = await client.request("POST", "/api/session/new", body);
    expect(created.status).toBe(201);
    return created.json.session.id as string;
  };

  it("creates, reads, renames, pins, archives and deletes sessions; bad input gets coded 4xx", async () => {
    const id = await newSession({ title: "Plans" });
    expect((await client.request("GET", `/api/session/${id}`)).json.session).toMatchObject({
      id,
      title: "Plans",
      messages: [],
    });
    const renamed = await client.request("PATCH", `/api/session/${id}`, { title: "Trip", pinned: true });
    expect(renamed.json.session).toMatchObject({ title: "Trip", pinned: true });
    const other = await newSession({ title: "Other" });
    const list = await client.request("GET", "/api/sessions");
    expect(list.json.sessions.map((s: { id: string }) => s.id)).toEqual([id, other]);
    await client.request("PATCH", `/api/session/${other}`, { archived: true });
    expect((await client.request("GET", "/api/sessions")).json.sessions).toHaveLength(1);
    expect((await client.request("GET", "/api/sessions?archived=1")).json.sessions).toHaveLength(2);
    expect((await client.request("DELETE", `/api/session/${other}`)).status).toBe(204);
    expect((await client.request("GET", `/api/session/${other}`)).json.error.code).toBe("SESSION_NOT_FOUND");

    const bad = await client.request("GET", "/api/session/..%2F..%2Fetc");
    expect([bad.status, bad.json.error.code]).toEqual([400, "INVALID_ID"]);
    const unknownField = await client.request("POST", "/api/session/new", { nope: 1 });
    expect([unknownField.status, unknownField.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const malformed = await client.request("POST", "/api/session/new", "{not json");
    expect([malformed.status, malformed.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const missing = await client.request("POST", "/api/chat/start", {
      sessionId: "nosuchsession",
      message: "hi",
    });
    expect([missing.status, missing.json.error.code]).toEqual([404, "SESSION_NOT_FOUND"]);
    const empty = await client.request("POST", "/api/chat/start", { sessionId: id, message: "  " });
    expect([empty.status, empty.json.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const huge = await client.request("POST", "/api/chat/start", {
      sessionId: id,
      message: "x".repeat(70_000),
    });
    expect([huge.status, huge.json.error.code]).toEqual([413, "CONTENT_TOO_LARGE"]);
    // Nothing of the refused requests was saved.
    expect((await client.request("GET", `/api/session/${id}`)).json.session.messages).toEqual([]);
  });

  it("refuses state changes without the CSRF header (another site's form)", async () => {
    client.csrf = false;
    const refused = await client.request("POST", "/api/session/new", {});
    expect([refused.status, refused.json.error.code]).toEqual([403, "FORBIDDEN"]);
    expect((await client.request("GET", "/api/sessions")).json.sessions).toEqual([]);
  });

  it("streams a reply over SSE, saves user message and reply, and replays the stream to a late subscriber", async () => {
    const id = await newSession();
    const { events, reply } = await client.chat(id, "Hello there");
    expect(reply).toContain("[offline model]");
    expect(
      events
        .filter((e) => e.event === "token")
        .map((e) => e.data.text)
        .join(""),
    ).toBe(reply);
    const session = (await client.request("GET", `/api/session/${id}`)).json.session;
    expect(session.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ["user", "Hello there"],
      ["assistant", reply],
    ]);
    expect(session.title).toBe("Hello there");
    // The stream stays replayable for a while after it ended.
    const started = await client.request("POST", "/api/chat/start", { sessionId: id, message: "Again" });
    const again = await client.events(
      `/api/chat/stream?streamId=${started.json.streamId}`,
      (e) => e.event === "done",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = await client.events(
      `/api/chat/stream?streamId=${started.json.streamId}`,
      (e) => e.event === "done",
    );
    expect(late).toEqual(again);
  });

  it("gives exactly one of many racing starts on one session the stream; the rest get 409 STREAM_ACTIVE", async () => {
    const model = new GatedModel();
    const gated = createWebApp({ config: parseWebConfig({}), db: db(), model });
    try {
      const racer = new WebClient(await listen(gated));
      await racer.init();
      const id = (await racer.request("POST", "/api/session/new", {})).json.session.id as string;
      for (let round = 0; round < 5; round++) {
        model.close(); // the winner's turn stays running while every other start arrives
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            racer.request("POST", "/api/chat/start", { sessionId: id, message: `round ${round} try ${i}` }),
          ),
        );
        const winners = results.filter((r) => r.status === 202);
        expect(winners).toHaveLength(1);
        for (const loser of results.filter((r) => r.status !== 202)) {
          expect([loser.status, loser.json.error.code]).toEqual([409, "STREAM_ACTIVE"]);
        }
        model.open();
        await racer.events(
          `/api/chat/stream?streamId=${winners[0]!.json.streamId}`,
          (e) => e.event === "done",
        );
      }
      const messages = (await racer.request("GET", `/api/session/${id}`)).json.session.messages;
      // Five turns, each a user message followed by its reply: no message of a refused start was saved.
      expect(messages.map((m: { role: string }) => m.role)).toEqual(
        Array(5).fill(["user", "assistant"]).flat(),
      );
    } finally {
      model.open();
      await gated.close({ drainDeadlineMs: 2_000 });
    }
  });

  it("commits memory at the server's boundary, never per turn: a new session recalls what the old one said", async () => {
    const first = await newSession();
    await client.chat(first, "I prefer tabs over spaces");
    let panel = (await client.request("GET", `/api/session/${first}/memory`)).json;
    expect(panel).toMatchObject({ uncommittedTurns: 1, lastCommit: null });
    expect(panel.providers.map((p: { name: string }) => p.name)).toEqual(["holographic"]);

    // A new session is a boundary, with or without `prevSessionId` (a reload names none): the owner's
    // other sessions are committed before it answers.
    const second = await newSession();
    panel = (await client.request("GET", `/api/session/${first}/memory`)).json;
    expect(panel).toMatchObject({ uncommittedTurns: 0, lastCommit: { status: "committed" } });
    const recalled = await client.chat(second, "what do I prefer?");
    expect(recalled.reply).toContain("tabs over spaces");
    const memoryEvent = recalled.events.find((e) => e.event === "memory");
    expect(memoryEvent?.data.recalls[0]).toMatchObject({ provider: "holographic" });
    expect(memoryEvent?.data.recalls[0].text).toContain("tabs over spaces");
    const secondPanel = (await client.request("GET", `/api/session/${second}/memory`)).json;
    expect(secondPanel.providers[0].lastRecall).toContain("tabs over spaces");
    // Web sessions share the web owner's scope, apart from the gateway's per-person scopes.
    const { rows } = await sql<{ scope: string }>`select scope from holographic_facts`.execute(db());
    expect(rows).toEqual([{ scope: WEB_MEMORY_SCOPE }]);
    // The recalled memory is never written into the transcript.
    const saved = (await client.request("GET", `/api/session/${second}`)).json.session.messages;
    for (const m of saved) expect(m.content).not.toContain("<memory-context>");
  });

  it("counts uncommitted turns on the active transcript and reads the last commit from the database, across restarts", async () => {
    const id = await newSession();
    await client.chat(id, "one");
    await client.chat(id, "two");
    const panel = async () => (await client.request("GET", `/api/session/${id}/memory`)).json;
    expect((await panel()).uncommittedTurns).toBe(2);
    expect((await client.request("POST", `/api/session/${id}/undo`, {})).status).toBe(200);
    expect((await panel()).uncommittedTurns).toBe(1);
    const retried = await client.request("POST", `/api/session/${id}/retry`, {});
    expect(retried.status).toBe(202);
    await client.events(`/api/chat/stream?streamId=${retried.json.streamId}`, (e) => e.event === "done");
    expect((await panel()).uncommittedTurns).toBe(1);

    await newSession(); // a boundary: the session is committed
    const committed = await panel();
    expect(committed).toMatchObject({ uncommittedTurns: 0, lastCommit: { status: "committed" } });
    await app.close({ drainDeadlineMs: 5_000 });
    app = createWebApp({ config: parseWebConfig({}), db: db(), messagingPollMs: 100 });
    client = new WebClient(await listen(app));
    await client.init();
    expect(await panel()).toMatchObject({ uncommittedTurns: 0, lastCommit: committed.lastCommit });
  });

  it("undoes, retries and branches through the API", async () => {
    const id = await newSession();
    await client.chat(id, "one");
    await client.chat(id, "two");
    const undone = await client.request("POST", `/api/session/${id}/undo`, {});
    expect(undone.json.removed).toBe(2);
    expect(undone.json.session.messages.map((m: { content: string }) => m.content)).toEqual([
      "one",
      expect.stringContaining("one"),
    ]);
    const retried = await client.request("POST", `/api/session/${id}/retry`, {});
    expect(retried.status).toBe(202);
    await client.events(`/api/chat/stream?streamId=${retried.json.streamId}`, (e) => e.event === "done");
    const afterRetry = (await client.request("GET", `/api/session/${id}`)).json.session.messages;
    expect(afterRetry.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    const branch = await client.request("POST", `/api/session/${id}/branch`, { keep: 1, title: "Fork" });
    expect(branch.status).toBe(201);
    const child = (await client.request("GET", `/api/session/${branch.json.session.id}`)).json.session;
    expect(child.messages.map((m: { content: string }) => m.content)).toEqual(["one"]);
    expect(child.title).toBe("Fork");
    const found = await client.request("GET", "/api/search?q=Fork");
    expect(found.json.results.map((r: { sessionId: string }) => r.sessionId)).toContain(child.id);
  });

  it("creates projects and moves sessions into them; lists by project; imports a gateway session by id", async () => {
    const created = await client.request("POST", "/api/projects", { name: "Garden" });
    expect(created.status).toBe(201);
    const projectId = created.json.project.id as string;
    expect((await client.request("GET", "/api/projects")).json.projects).toEqual([
      expect.objectContaining({ id: projectId, name: "Garden" }),
    ]);
    const inside = await newSession({ title: "Tomatoes" });
    await newSession({ title: "Elsewhere" });
    expect(
      (await client.request("PATCH", `/api/session/${inside}`, { projectId })).json.session.projectId,
    ).toBe(projectId);
    const listed = await client.request("GET", `/api/sessions?projectId=${projectId}`);
    expect(listed.json.sessions.map((s: { title: string }) => s.title)).toEqual(["Tomatoes"]);

    const transcripts = new PostgresTranscriptStore(db() as Kysely<DB>);
    await transcripts.createSession({ id: "cli_session_1", source: "cli" });
    await transcripts.appendMessage("cli_session_1", { role: "user", content: "from the terminal" });
    const imported = await client.request("POST", "/api/session/import", { sessionId: "cli_session_1" });
    expect(imported.json.session).toMatchObject({ id: "cli_session_1", source: "cli", messageCount: 1 });
    const read = (await client.request("GET", "/api/session/cli_session_1")).json.session;
    expect(read.messages.map((m: { content: string }) => m.content)).toEqual(["from the terminal"]);
    const missing = await client.request("POST", "/api/session/import", { sessionId: "nope_nope" });
    expect([missing.status, missing.json.error.code]).toEqual([404, "SESSION_NOT_FOUND"]);
  });

  it("cancels a running turn: the user message stays, no reply is saved, the turn is not counted for memory", async () => {
    const model = new GatedModel();
    const gated = createWebApp({ config: parseWebConfig({}), db: db(), model });
    try {
      const c = new WebClient(await listen(gated));
      await c.init();
      const id = (await c.request("POST", "/api/session/new", {})).json.session.id as string;
      model.close();
      const started = await c.request("POST", "/api/chat/start", { sessionId: id, message: "long task" });
      const events = c.events(
        `/api/chat/stream?streamId=${started.json.streamId}`,
        (e) => e.event === "error",
      );
      expect((await c.request("POST", "/api/chat/cancel", { streamId: started.json.streamId })).status).toBe(
        204,
      );
      model.open();
      const last = (await events).at(-1);
      expect(last?.event).toBe("error");
      const session = (await c.request("GET", `/api/session/${id}`)).json.session;
      expect(session.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
        ["user", "long task"],
      ]);
      expect((await c.request("GET", `/api/session/${id}/memory`)).json.uncommittedTurns).toBe(0);
      const unknown = await c.request("POST", "/api/chat/cancel", { streamId: "no-such-stream" });
      expect([unknown.status, unknown.json.error.code]).toEqual([404, "NOT_FOUND"]);
    } finally {
      model.open();
      await gated.close({ drainDeadlineMs: 2_000 });
    }
  });

  it("keeps listing a gateway session however many web sessions are newer", async () => {
    const transcripts = new PostgresTranscriptStore(db() as Kysely<DB>);
    await transcripts.createSession({
      id: "tg_old",
      source: "telegram",
      sessionKey: "agent:main:telegram:dm:9",
    });
    await transcripts.appendMessage("tg_old", { role: "user", content: "an old chat" });
    const web = new PostgresWebSessionStore(db() as Kysely<DB>);
    for (let i = 0; i < 250; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => web.create({ title: `Newer ${i + k}` })));
    }
    const listed = (await client.request("GET", "/api/messaging/sessions")).json.sessions;
    expect(listed.map((s: { sessionId: string }) => s.sessionId)).toEqual(["tg_old"]);
  });

  it("lists the gateway's sessions from the shared database and pushes their changes over /api/events", async () => {
    const transcripts = new PostgresTranscriptStore(db() as Kysely<DB>);
    await transcripts.createSession({
      id: "tg_session_1",
      source: "telegram",
      userId: "42",
      chatId: "42",
      chatType: "dm",
      sessionKey: "agent:main:telegram:dm:42",
    });
    await transcripts.appendMessage("tg_session_1", { role: "user", content: "hello from telegram" });
    const listed = await eventually(
      async () => (await client.request("GET", "/api/messaging/sessions")).json.sessions,
      (s: unknown[]) => s.length > 0,
    );
    expect(listed).toEqual([
      expect.objectContaining({
        sessionId: "tg_session_1",
        platform: "telegram",
        title: "hello from telegram",
      }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the feed has seen the session once
    const abort = new AbortController();
    const heard = client.events("/api/events", (e) => e.event === "messaging", abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await transcripts.appendMessage("tg_session_1", { role: "assistant", content: "hi back" });
    const events = await heard;
    expect(events.at(-1)).toEqual({ event: "messaging", data: { sessionId: "tg_session_1" } });
    const detail = (await client.request("GET", "/api/messaging/session/tg_session_1")).json.session;
    expect(detail.messages.map((m: { content: string }) => m.content)).toEqual([
      "hello from telegram",
      "hi back",
    ]);
    // Web sessions are not messaging sessions.
    const web = await newSession();
    expect((await client.request("GET", `/api/messaging/session/${web}`)).status).toBe(404);
  });

  it("pushes `sessions` over /api/events when the web session list changes: create, rename, each finished turn", async () => {
    const abort = new AbortController();
    const seen: string[] = [];
    let sessionsEvents = 0;
    const heard = client
      .events(
        "/api/events",
        (e) => {
          seen.push(e.event);
          return e.event === "sessions" && ++sessionsEvents === 4;
        },
        abort.signal,
      )
      .then(() => seen);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const id = await newSession(); // 1
    await client.request("PATCH", `/api/session/${id}`, { title: "Renamed" }); // 2
    await client.chat(id, "hello"); // 3: the user message is saved; 4: the turn ended
    expect(await heard).toEqual(["sessions", "sessions", "sessions", "sessions"]);
    // Refused and read-only requests change nothing and say nothing.
    const quiet = new AbortController();
    const none = client.events("/api/events", (e) => e.event === "sessions", quiet.signal).catch(() => []);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.request("GET", "/api/sessions");
    await client.request("PATCH", `/api/session/${id}`, { nope: true });
    await client.request("POST", "/api/chat/start", { sessionId: "nosuchsession", message: "hi" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    quiet.abort();
    expect(await none).toEqual([]);
  });
});

describeEachBackend("web server with a login token", (db) => {
  it("requires the login for the API, refuses a wrong token, and accepts the right one via an httpOnly cookie", async () => {
    const app = createWebApp({ config: parseWebConfig({ token: "correct-horse-battery" }), db: db() });
    try {
      const client = new WebClient(await listen(app));
      const auth = await client.request("GET", "/api/auth");
      expect(auth.json).toEqual({ authRequired: true, authenticated: false });
      const denied = await client.request("GET", "/api/sessions");
      expect([denied.status, denied.json.error.code]).toEqual([401, "UNAUTHORIZED"]);
      const wrong = await client.request("POST", "/api/login", { token: "wrong-token-value" });
      expect([wrong.status, wrong.json.error.code]).toEqual([401, "UNAUTHORIZED"]);
      const right = await client.request("POST", "/api/login", { token: "correct-horse-battery" });
      expect(right.status).toBe(204);
      expect(client.cookies.get("engram_auth")).not.toContain("correct-horse-battery");
      expect((await client.request("GET", "/api/sessions")).status).toBe(200);
    } finally {
      await app.close({ drainDeadlineMs: 2_000 });
    }
  });
});

describeEachBackend("web server with transcript notifications", ({ db, database }) => {
  it("pushes a gateway session's change to /api/events as it is written (no polling involved)", async () => {
    const app = createWebApp({
      config: parseWebConfig({}),
      db: db(),
      messagingPollMs: 3_600_000, // the fallback check never runs during the test
      transcriptChanges: (onChange) => listenForTranscriptChanges(database(), onChange),
    });
    try {
      await app.ready;
      const client = new WebClient(await listen(app));
      await client.init();
      const transcripts = new PostgresTranscriptStore(db() as Kysely<DB>);
      const abort = new AbortController();
      const heard = client.events("/api/events", (e) => e.event === "messaging", abort.signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await transcripts.createSession({
        id: "tg_notify_1",
        source: "telegram",
        chatType: "dm",
        chatId: "5",
        userId: "5",
        sessionKey: "agent:main:telegram:dm:5",
      });
      await transcripts.appendMessage("tg_notify_1", { role: "user", content: "pushed, not polled" });
      const events = await heard;
      expect(events.at(-1)).toEqual({ event: "messaging", data: { sessionId: "tg_notify_1" } });
      // A web session's messages are not messaging changes.
      const web = (await client.request("POST", "/api/session/new", {})).json.session.id as string;
      const quiet = new AbortController();
      const none = client.events("/api/events", (e) => e.event === "messaging", quiet.signal).catch(() => []);
      await client.chat(web, "web only");
      await new Promise((resolve) => setTimeout(resolve, 300));
      quiet.abort();
      expect(await none).toEqual([]);
    } finally {
      await app.close({ drainDeadlineMs: 2_000 });
    }
  });
});
