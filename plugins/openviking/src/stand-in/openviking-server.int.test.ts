import { PostgresArchiveStore, sessionBufferTables } from "@engram/session-buffer";
import { describeEachBackend } from "@engram/store/testing";
import {
  migrateOpenVikingServer,
  type OpenVikingServerHandle,
  PostgresMemoryRecordStore,
  startOpenVikingServer,
} from "@engram/testkit/openviking-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

interface Envelope {
  status: "ok" | "error";
  result?: unknown;
  error?: { code: string; message: string };
  time?: number;
}

async function call(
  server: OpenVikingServerHandle,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Envelope }> {
  const response = await fetch(server.url + path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Envelope };
}

async function commitAndSettle(
  server: OpenVikingServerHandle,
  sessionId: string,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const commit = await call(server, "POST", `/api/v1/sessions/${sessionId}/commit`, {}, headers);
  expect(commit.status).toBe(200);
  const taskId = (commit.json.result as { task_id: string }).task_id;
  await server.idle();
  const task = await call(server, "GET", `/api/v1/tasks/${taskId}`, undefined, headers);
  return task.json.result as Record<string, unknown>;
}

describe("OpenViking stand-in server, in memory", () => {
  let server: OpenVikingServerHandle;
  beforeEach(async () => {
    server = await startOpenVikingServer({ apiKey: "sk-test" });
  });
  afterEach(async () => {
    await server.close();
  });
  const auth = { "x-api-key": "sk-test" };

  it("answers /health without credentials and everything else only with the key", async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", healthy: true });
    const anonymous = await call(server, "POST", "/api/v1/sessions", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ status: "error", error: { code: "UNAUTHENTICATED" } });
    const wrong = await call(server, "POST", "/api/v1/sessions", {}, { "x-api-key": "nope" });
    expect(wrong.status).toBe(401);
    const viaHeader = await call(server, "POST", "/api/v1/sessions", {}, auth);
    expect(viaHeader.status).toBe(200);
    const viaBearer = await call(server, "POST", "/api/v1/sessions", {}, { authorization: "Bearer sk-test" });
    expect(viaBearer.status).toBe(200);
  });

  it("creates, reads and deletes sessions in the {status, result} envelope", async () => {
    const created = await call(server, "POST", "/api/v1/sessions", { session_id: "s-1" }, auth);
    expect(created.json).toMatchObject({
      status: "ok",
      result: { session_id: "s-1", uri: "viking://user/default/sessions/s-1", auto_commit_policy: null },
    });
    expect(typeof created.json.time).toBe("number");
    const listed = await call(server, "GET", "/api/v1/sessions", undefined, auth);
    expect(listed.json.result).toEqual([
      { session_id: "s-1", uri: "viking://user/default/sessions/s-1", is_dir: true },
    ]);
    const got = await call(server, "GET", "/api/v1/sessions/s-1", undefined, auth);
    expect(got.json.result).toMatchObject({ session_id: "s-1", message_count: 0, commit_count: 0 });
    const deleted = await call(server, "DELETE", "/api/v1/sessions/s-1", undefined, auth);
    expect(deleted.json).toMatchObject({ status: "ok", result: { session_id: "s-1" } });
    const gone = await call(server, "GET", "/api/v1/sessions/s-1", undefined, auth);
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ status: "error", error: { code: "NOT_FOUND" } });
  });

  it("adds single messages and batches with text and tool parts", async () => {
    const single = await call(
      server,
      "POST",
      "/api/v1/sessions/s-2/messages",
      { role: "user", content: "hello" },
      auth,
    );
    expect(single.json.result).toEqual({ session_id: "s-2", message_count: 1 });
    const batch = await call(
      server,
      "POST",
      "/api/v1/sessions/s-2/messages/batch",
      {
        messages: [
          { role: "user", parts: [{ type: "text", text: "find flights" }] },
          {
            role: "assistant",
            parts: [
              {
                type: "tool",
                tool_id: "c1",
                tool_name: "search",
                tool_input: { q: "flights" },
                tool_status: "completed",
                tool_output: "3 found",
              },
              { type: "text", text: "I found three." },
            ],
          },
        ],
      },
      auth,
    );
    expect(batch.json.result).toEqual({ session_id: "s-2", message_count: 3, added: 2 });
  });

  it("rejects a batch over 100, a message with neither content nor parts and bad JSON with 400 INVALID_ARGUMENT, writing nothing", async () => {
    const many = Array.from({ length: 101 }, () => ({ role: "user", content: "x" }));
    const tooMany = await call(
      server,
      "POST",
      "/api/v1/sessions/s-3/messages/batch",
      { messages: many },
      auth,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error?.code).toBe("INVALID_ARGUMENT");
    const empty = await call(
      server,
      "POST",
      "/api/v1/sessions/s-3/messages/batch",
      { messages: [{ role: "user", content: "ok" }, { role: "user" }] },
      auth,
    );
    expect(empty.status).toBe(400);
    expect(empty.json.error?.code).toBe("INVALID_ARGUMENT");
    const single = await call(server, "POST", "/api/v1/sessions/s-3/messages", { role: "user" }, auth);
    expect(single.status).toBe(400);
    const badJson = await call(server, "POST", "/api/v1/sessions/s-3/messages", "{not json", auth);
    expect(badJson.status).toBe(400);
    expect(badJson.json.error?.code).toBe("INVALID_ARGUMENT");
    const session = await call(server, "GET", "/api/v1/sessions/s-3?auto_create=true", undefined, auth);
    expect((session.json.result as { message_count: number }).message_count).toBe(0);
  });

  it("rejects unknown keys on find and search", async () => {
    const find = await call(server, "POST", "/api/v1/search/find", { query: "x", session_id: "s" }, auth);
    expect(find.status).toBe(400);
    expect(find.json.error?.code).toBe("INVALID_ARGUMENT");
    const search = await call(server, "POST", "/api/v1/search/search", { query: "x", bogus: 1 }, auth);
    expect(search.status).toBe(400);
    const fine = await call(
      server,
      "POST",
      "/api/v1/search/search",
      { query: "x", session_id: "s", limit: 3 },
      auth,
    );
    expect(fine.json.result).toEqual({ memories: [], resources: [], skills: [], query_plan: null, total: 0 });
  });

  it("commits: skipped with a null task for an empty session, accepted with a pollable task otherwise", async () => {
    await call(server, "POST", "/api/v1/sessions", { session_id: "s-4" }, auth);
    const skipped = await call(server, "POST", "/api/v1/sessions/s-4/commit", {}, auth);
    expect(skipped.json.result).toMatchObject({ status: "skipped", task_id: null, archived: false });
    await call(
      server,
      "POST",
      "/api/v1/sessions/s-4/messages",
      { role: "user", content: "I prefer green tea." },
      auth,
    );
    const task = await commitAndSettle(server, "s-4", auth);
    expect(task).toMatchObject({
      task_type: "session_commit",
      status: "completed",
      resource_id: "s-4",
      result: { session_id: "s-4", memories_extracted: { preferences: 1 } },
    });
    const latest = await call(
      server,
      "GET",
      "/api/v1/tasks?task_type=session_commit&resource_id=s-4&limit=1",
      undefined,
      auth,
    );
    expect(latest.json.result).toEqual([
      expect.objectContaining({ task_id: task.task_id, status: "completed" }),
    ]);
    const none = await call(server, "GET", "/api/v1/tasks?resource_id=other", undefined, auth);
    expect(none.json.result).toEqual([]);
    const unknownTask = await call(server, "GET", "/api/v1/tasks/nope", undefined, auth);
    expect(unknownTask.status).toBe(404);
    const unknownSession = await call(server, "POST", "/api/v1/sessions/missing/commit", {}, auth);
    expect(unknownSession.status).toBe(404);
  });

  it("accepts a second commit while the first is still running", async () => {
    await call(server, "POST", "/api/v1/sessions", { session_id: "s-5" }, auth);
    await call(
      server,
      "POST",
      "/api/v1/sessions/s-5/messages",
      { role: "user", content: "I like rain." },
      auth,
    );
    const first = call(server, "POST", "/api/v1/sessions/s-5/commit", {}, auth);
    await call(
      server,
      "POST",
      "/api/v1/sessions/s-5/messages",
      { role: "user", content: "I like snow." },
      auth,
    );
    const second = call(server, "POST", "/api/v1/sessions/s-5/commit", {}, auth);
    const results = await Promise.all([first, second]);
    expect(results.map((r) => (r.json.result as { status: string }).status)).toEqual([
      "accepted",
      "accepted",
    ]);
  });
});

describeEachBackend(
  "OpenViking stand-in server, durable",
  (getDb) => {
    it("finds extracted memories with uri, level, score, category and abstract, and keeps them across a restart", async () => {
      let server = await startOpenVikingServer({ db: getDb() });
      await call(server, "POST", "/api/v1/sessions", { session_id: "d-1" });
      await call(server, "POST", "/api/v1/sessions/d-1/messages/batch", {
        messages: [
          { role: "user", content: "My name is Ada. I prefer dark roast coffee." },
          { role: "assistant", content: "Noted." },
        ],
      });
      const task = await commitAndSettle(server, "d-1");
      expect(task.status).toBe("completed");
      await server.close();

      server = await startOpenVikingServer({ db: getDb() });
      try {
        const found = await call(server, "POST", "/api/v1/search/find", { query: "coffee roast", limit: 5 });
        const memories = (found.json.result as { memories: Record<string, unknown>[] }).memories;
        expect(memories).toHaveLength(1);
        expect(memories[0]).toMatchObject({
          context_type: "memory",
          level: 2,
          category: "preferences",
          abstract: "I prefer dark roast coffee.",
        });
        expect(memories[0]?.uri).toMatch(
          /^viking:\/\/user\/default\/memories\/preferences\/mem_[0-9a-f]{12}\.md$/,
        );
        expect(memories[0]?.score).toBeGreaterThan(0);
        const session = await call(server, "GET", "/api/v1/sessions/d-1");
        expect(session.status).toBe(200);
      } finally {
        await server.close();
      }
    });

    it("keeps commit tasks pollable across a restart and fails the ones a dead process left running", async () => {
      let server = await startOpenVikingServer({ db: getDb() });
      await call(server, "POST", "/api/v1/sessions/d-3/messages", { role: "user", content: "I like maps." });
      const done = await commitAndSettle(server, "d-3");
      await server.close();
      await new PostgresMemoryRecordStore(getDb()).saveTask({
        task_id: "orphan",
        task_type: "session_commit",
        status: "running",
        created_at: 1,
        updated_at: 1,
        resource_id: "d-3",
        result: null,
        error: null,
      });
      server = await startOpenVikingServer({ db: getDb() });
      try {
        const again = await call(server, "GET", `/api/v1/tasks/${String(done.task_id)}`);
        expect(again.json.result).toEqual(done);
        const orphan = await call(server, "GET", "/api/v1/tasks/orphan");
        expect(orphan.json.result).toMatchObject({ status: "failed", error: { code: "UNAVAILABLE" } });
        const listed = await call(server, "GET", "/api/v1/tasks?resource_id=d-3");
        expect((listed.json.result as { task_id: string }[]).map((t) => t.task_id)).toEqual([
          "orphan",
          done.task_id,
        ]);
      } finally {
        await server.close();
      }
    });

    it("lists, stats, reads and deletes memory files", async () => {
      const server = await startOpenVikingServer({ db: getDb() });
      try {
        await call(server, "POST", "/api/v1/sessions/d-2/messages", {
          role: "user",
          content: "Call me Max.",
        });
        await commitAndSettle(server, "d-2");
        const root = await call(server, "GET", "/api/v1/fs/ls?uri=viking://user/default/memories/");
        expect(root.json.result).toEqual([expect.objectContaining({ name: "profile", isDir: true })]);
        const files = await call(server, "GET", "/api/v1/fs/ls?uri=viking://~/memories/profile");
        const [file] = files.json.result as { uri: string; isDir: boolean }[];
        expect(file?.isDir).toBe(false);
        const uri = encodeURIComponent(file?.uri ?? "");
        const stat = await call(server, "GET", `/api/v1/fs/stat?uri=${uri}`);
        expect(stat.json.result).toMatchObject({ isDir: false, size: "Call me Max.".length });
        expect((await call(server, "GET", `/api/v1/content/read?uri=${uri}`)).json.result).toBe(
          "Call me Max.",
        );
        expect((await call(server, "GET", `/api/v1/content/abstract?uri=${uri}`)).json.result).toBe(
          "Call me Max.",
        );
        const overview = await call(
          server,
          "GET",
          "/api/v1/content/overview?uri=viking://user/default/memories",
        );
        expect(overview.json.result).toContain("profile/");
        const dirDelete = await call(
          server,
          "DELETE",
          "/api/v1/fs?uri=viking://user/default/memories/profile",
        );
        expect(dirDelete.status).toBe(400);
        expect((await call(server, "DELETE", `/api/v1/fs?uri=${uri}`)).json.result).toEqual({
          uri: file?.uri,
        });
        const again = await call(server, "DELETE", `/api/v1/fs?uri=${uri}`);
        expect(again.status).toBe(404);
        const badUri = await call(server, "GET", "/api/v1/content/read?uri=/etc/passwd");
        expect(badUri.status).toBe(400);
        expect(badUri.json.error?.code).toBe("INVALID_URI");
      } finally {
        await server.close();
      }
    });

    it("killed between a commit's two phases, loses no acknowledged message: the next server restores and archives them once", async () => {
      // Phase 2 never gets past compression: the kill lands after phase 1 emptied the live buffer.
      const stuck = await startOpenVikingServer({
        db: getDb(),
        compressor: { compress: () => new Promise<never>(() => undefined) },
      });
      const said = ["I prefer tabs over spaces.", "Noted.", "My name is Ada.", "Hi Ada."];
      await call(stuck, "POST", "/api/v1/sessions/k-1/messages/batch", {
        messages: said.slice(0, 2).map((content, i) => ({ role: i % 2 ? "assistant" : "user", content })),
      });
      await call(stuck, "POST", "/api/v1/sessions/k-1/messages", { role: "user", content: said[2] });
      await call(stuck, "POST", "/api/v1/sessions/k-1/messages", { role: "assistant", content: said[3] });
      const accepted = await call(stuck, "POST", "/api/v1/sessions/k-1/commit", {});
      expect(accepted.json.result).toMatchObject({ status: "accepted" });
      await stuck.kill();

      const restarted = await startOpenVikingServer({ db: getDb() });
      try {
        const info = await call(restarted, "GET", "/api/v1/sessions/k-1");
        expect(info.json.result).toMatchObject({ message_count: 4 });
        const again = await call(restarted, "POST", "/api/v1/sessions/k-1/commit", {});
        expect(again.json.result).toMatchObject({ status: "accepted" });
        await restarted.idle();
        const archives = new PostgresArchiveStore(sessionBufferTables(getDb()));
        const listed = await archives.listArchives("k-1");
        expect(listed).toHaveLength(1);
        const archive = await archives.readArchive("k-1", listed[0]!.archiveId);
        expect(archive?.messages.map((m) => m.content)).toEqual(said);
      } finally {
        await restarted.close();
      }
      // A third start finds nothing left to restore: archived messages are never restored twice.
      const third = await startOpenVikingServer({ db: getDb() });
      try {
        const info = await call(third, "GET", "/api/v1/sessions/k-1");
        expect(info.json.result).toMatchObject({ message_count: 0 });
      } finally {
        await third.close();
      }
    });
  },
  { setup: (db) => migrateOpenVikingServer(db).then(() => undefined) },
);
