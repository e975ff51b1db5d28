import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { assertSafeId, type Clock, isEngramError, systemClock } from "@engram/core";
import {
  DeterministicMemoryExtractor,
  type MemoryExtractor,
  migrateSessionBuffer,
  PostgresArchiveStore,
  PostgresSessionStateStore,
  SessionBufferManager,
  type SessionCompressor,
  sessionBufferTables,
} from "@engram/session-buffer";
import { type DB, migrateStore } from "@engram/store";
import type { Kysely } from "kysely";
import {
  InMemoryMemoryRecordStore,
  type MemoryRecord,
  type MemoryRecordStore,
  type OpenVikingTaskRecord,
} from "./memory-record-store.js";
import { categoryOf, lexicalScore, memoryRoot, memoryUri, normalizeUri } from "./memory-uris.js";
import { migrateOpenVikingServer, PostgresMemoryRecordStore } from "./postgres-memory-record-store.js";
import { OpenVikingWireError } from "./wire-errors.js";
import { parseBatch, parseMessage, parseSearch } from "./wire-messages.js";

export interface StartOpenVikingServerProps {
  /**
   * Durable mode: memories and session ids in this database (store + own migrations are applied), so
   * a restarted server keeps them. Without it, everything lives in process memory.
   */
  readonly db?: Kysely<DB>;
  /** Require `X-API-Key: <key>` or `Authorization: Bearer <key>` on everything but `/health`. */
  readonly apiKey?: string;
  /** The user the memories belong to (default `default`). */
  readonly user?: string;
  /** Answer `/health` like servers before the identity fields (`{status:"ok"}` only). */
  readonly legacyHealth?: boolean;
  /**
   * Emulate older servers: `parts` refuses message parts (400), `batch` has no `messages/batch` route
   * (404), `search` has no `search/search` route (404).
   */
  readonly without?: { readonly parts?: boolean; readonly batch?: boolean; readonly search?: boolean };
  /** Defaults to core's {@link DeterministicMemoryExtractor}. */
  readonly extractor?: MemoryExtractor;
  /** Commit phase 2's compressor; defaults to core's deterministic one. */
  readonly compressor?: SessionCompressor;
  readonly clock?: Clock;
}

export interface OpenVikingServerHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request the server received, in order (method and path with query), for wire tests. */
  readonly requests: readonly {
    method: string;
    path: string;
    body: unknown;
    headers: http.IncomingHttpHeaders;
  }[];
  /** Resolves once every background commit and extraction started so far has ended. */
  idle(): Promise<void>;
  close(): Promise<void>;
  /**
   * Stops answering at once and abandons background work, as a crashed process would (tests of
   * durability; a later server on the same database restores what was acknowledged).
   */
  kill(): Promise<void>;
}

export const OPENVIKING_SERVER_VERSION = "0.0.0-engram-compat";
const MAX_BODY_BYTES = 1_000_000;

type ServerTask = OpenVikingTaskRecord;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handle: (match: RegExpMatchArray, url: URL, body: unknown) => Promise<unknown>;
}

/**
 * An OpenViking-compatible HTTP server (the public `/api/v1` wire contract) on 127.0.0.1, built on
 * core's {@link SessionBufferManager}: messages are buffered per session, a commit archives them in two
 * phases, and memories are extracted from the committed messages in the background (the task settles
 * once they are stored). Search is lexical, not vector-based; enough to test clients end to end.
 */
export async function startOpenVikingServer(
  props: StartOpenVikingServerProps = {},
): Promise<OpenVikingServerHandle> {
  const clock = props.clock ?? systemClock;
  const user = props.user ?? "default";
  const extractor = props.extractor ?? new DeterministicMemoryExtractor();
  let records: MemoryRecordStore;
  let manager: SessionBufferManager;
  let archives: PostgresArchiveStore | undefined;
  const compressor = props.compressor ? { compressor: props.compressor } : {};
  if (props.db) {
    await migrateStore(props.db);
    await migrateSessionBuffer(props.db);
    await migrateOpenVikingServer(props.db);
    const storeDb = sessionBufferTables(props.db);
    records = new PostgresMemoryRecordStore(props.db);
    archives = new PostgresArchiveStore(storeDb, { clock });
    manager = new SessionBufferManager({
      clock,
      ...compressor,
      archiveStore: archives,
      sessionStateStore: new PostgresSessionStateStore(storeDb),
      archiveStoreRequired: true,
    });
  } else {
    records = new InMemoryMemoryRecordStore();
    manager = new SessionBufferManager({ clock, ...compressor });
  }
  await restoreBuffers(records, manager, archives);
  const tasks = new Map<string, ServerTask>();
  // A task a previous process left unfinished will never finish: say so instead of "running" forever.
  for (const stale of await records.listTasks()) {
    if (stale.status !== "pending" && stale.status !== "running") continue;
    await records.saveTask({
      ...stale,
      status: "failed",
      updated_at: clock.now() / 1000,
      error: { code: "UNAVAILABLE", message: "the server restarted before the task finished" },
    });
  }
  const latestTask = new Map<string, Promise<unknown>>();
  const background = new Set<Promise<unknown>>();
  const requests: { method: string; path: string; body: unknown; headers: http.IncomingHttpHeaders }[] = [];
  const root = memoryRoot(user);

  const iso = (ms: number) => new Date(ms).toISOString();
  const sessionUri = (id: string) => `viking://user/${user}/sessions/${id}`;
  const track = <T>(work: Promise<T>): Promise<T> => {
    background.add(work);
    void work.finally(() => background.delete(work)).catch(() => undefined);
    return work;
  };

  const sessionId = (raw: string | undefined): string => {
    const id = decodeURIComponent(raw ?? "");
    try {
      assertSafeId("session id", id);
    } catch (error) {
      throw new OpenVikingWireError(
        "INVALID_ARGUMENT",
        isEngramError(error) ? error.message : "invalid session id",
      );
    }
    return id;
  };
  const requireSession = async (id: string) => {
    if (!(await records.hasSession(id)))
      throw new OpenVikingWireError("NOT_FOUND", `Session not found: ${id}`);
  };
  const ensureSession = (id: string) => records.addSession(id, clock.now());

  const stamped = (message: { role: string; content: string; createdAt?: number }) => ({
    role: message.role,
    content: message.content,
    createdAt: message.createdAt ?? clock.now(),
  });

  const extractionSummary = async () => (await records.list()).map((r) => r.content).join("\n");

  const update = async (task: ServerTask, patch: Partial<ServerTask>) => {
    Object.assign(task, patch, { updated_at: clock.now() / 1000 });
    await records.saveTask({ ...task });
  };

  /** Phase 2 of an accepted commit: wait for the archive, then extract and store memories. */
  const settle = async (
    task: ServerTask,
    coreTaskId: string,
    messages: Awaited<ReturnType<typeof manager.getMessages>>,
  ) => {
    await update(task, { status: "running" });
    const archived = await manager.waitForTask(coreTaskId);
    if (!archived || archived.status === "failed") {
      // The buffer was rolled back; its journal rows stay, still describing it.
      await update(task, {
        status: "failed",
        error: { code: "PROCESSING_ERROR", message: archived?.error?.message ?? "archive failed" },
      });
      return;
    }
    // The archive holds them now: the journal lets go (a crash before this line is sorted out at start).
    const archive = await archives?.readArchive(task.resource_id, archived.archiveId);
    await records.forgetMessages(archive?.messages.map((message) => message.id) ?? []);
    try {
      const extracted = await extractor.extract({
        sessionId: task.resource_id,
        messages,
        summary: await extractionSummary(),
      });
      const now = clock.now();
      const fresh: MemoryRecord[] = extracted.memories
        .filter((m) => m.action !== "skip")
        .map((m) => {
          const category = categoryOf(m.target);
          return {
            uri: memoryUri(user, category, m.target),
            category,
            content: m.target,
            abstract: m.target.slice(0, 160),
            sessionId: task.resource_id,
            createdAt: now,
          };
        });
      await records.add(fresh);
      const counts: Record<string, number> = {};
      for (const r of fresh) counts[r.category] = (counts[r.category] ?? 0) + 1;
      await update(task, {
        status: "completed",
        result: {
          session_id: task.resource_id,
          archive_uri: `${sessionUri(task.resource_id)}/history/${archived.archiveId}`,
          memories_extracted: counts,
        },
      });
    } catch (error) {
      await update(task, {
        status: "failed",
        error: { code: "PROCESSING_ERROR", message: error instanceof Error ? error.message : String(error) },
      });
    }
  };

  const commit = async (id: string): Promise<unknown> => {
    await requireSession(id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const messages = await manager.getMessages(id);
      const result = await manager.commit(id);
      if (result.accepted) {
        const now = clock.now() / 1000;
        const task: ServerTask = {
          task_id: randomUUID(),
          task_type: "session_commit",
          status: "pending",
          created_at: now,
          updated_at: now,
          resource_id: id,
          result: null,
          error: null,
        };
        tasks.set(task.task_id, task);
        await records.saveTask({ ...task });
        latestTask.set(id, track(settle(task, result.task.taskId, messages)));
        return {
          session_id: id,
          status: "accepted",
          task_id: task.task_id,
          archive_uri: `${sessionUri(id)}/history/${result.task.archiveId}`,
          archived: true,
        };
      }
      if (result.reason !== "commit_in_progress") break;
      // Upstream accepts rapid consecutive commits; core refuses while phase 2 runs, so wait it out.
      await latestTask.get(id);
      await manager.drain();
    }
    return {
      session_id: id,
      status: "skipped",
      task_id: null,
      archive_uri: null,
      archived: false,
      reason: "no_messages",
    };
  };

  const childrenOf = async (
    dir: string,
  ): Promise<{ dirs: Map<string, MemoryRecord[]>; files: MemoryRecord[] }> => {
    const all = await records.list();
    const dirs = new Map<string, MemoryRecord[]>();
    const files: MemoryRecord[] = [];
    for (const r of all) {
      if (!r.uri.startsWith(`${dir}/`)) continue;
      const rest = r.uri.slice(dir.length + 1);
      const slash = rest.indexOf("/");
      if (slash < 0) files.push(r);
      else {
        const name = rest.slice(0, slash);
        dirs.set(name, [...(dirs.get(name) ?? []), r]);
      }
    }
    return { dirs, files };
  };
  const isKnownDir = async (uri: string) => {
    if (uri === `viking://user/${user}` || uri === root) return true;
    const { dirs, files } = await childrenOf(uri);
    return dirs.size + files.length > 0;
  };
  const fileEntry = (r: MemoryRecord) => ({
    name: r.uri.slice(r.uri.lastIndexOf("/") + 1),
    uri: r.uri,
    isDir: false,
    size: Buffer.byteLength(r.content),
    modTime: iso(r.createdAt),
    abstract: r.abstract,
  });
  const dirEntry = (uri: string, members: readonly MemoryRecord[]) => ({
    name: uri.slice(uri.lastIndexOf("/") + 1),
    uri: `${uri}/`,
    isDir: true,
    size: 0,
    modTime: iso(Math.max(0, ...members.map((m) => m.createdAt))),
    abstract: `${members.length} memories`,
  });
  const uriParam = (url: URL): string => {
    const raw = url.searchParams.get("uri");
    if (!raw?.startsWith("viking://")) {
      throw new OpenVikingWireError("INVALID_URI", `Invalid Viking URI: ${JSON.stringify(raw ?? "")}`);
    }
    if (raw.split("/").some((seg) => seg === ".."))
      throw new OpenVikingWireError("INVALID_URI", `Invalid Viking URI: ${raw}`);
    return normalizeUri(raw, user);
  };
  const dirSummary = async (uri: string) => {
    const { dirs, files } = await childrenOf(uri);
    const lines = [
      ...[...dirs.entries()].map(([name, members]) => `- ${name}/: ${members.length} memories`),
      ...files.map((f) => `- ${fileEntry(f).name}: ${f.abstract}`),
    ];
    return lines.join("\n");
  };
  const readLevel = (level: "read" | "abstract" | "overview") => async (_m: RegExpMatchArray, url: URL) => {
    const uri = uriParam(url);
    const file = await records.get(uri);
    if (file) return level === "abstract" ? file.abstract : file.content;
    if (await isKnownDir(uri)) {
      if (level === "read")
        throw new OpenVikingWireError(
          "INVALID_ARGUMENT",
          `${uri} is a directory; read its abstract or overview`,
        );
      return dirSummary(uri);
    }
    throw new OpenVikingWireError("NOT_FOUND", `Resource not found: ${uri}`);
  };
  const search = (withSession: boolean) => async (_m: RegExpMatchArray, _url: URL, body: unknown) => {
    const request = parseSearch(body, withSession);
    const target = request.targetUri ? normalizeUri(request.targetUri, user) : "";
    let query = request.query;
    if (withSession && request.sessionId && (await records.hasSession(request.sessionId))) {
      // Context-aware search: the latest user message of the session widens the query.
      const recent = (await manager.getMessages(request.sessionId)).filter((m) => m.role === "user").at(-1);
      if (recent && !query) query = recent.content;
    }
    const hits = (await records.list())
      .filter((r) => !target || r.uri === target || r.uri.startsWith(`${target}/`))
      .map((r) => ({ r, score: lexicalScore(query, r.content) }))
      .filter((h) => h.score > 0 && h.score >= request.scoreThreshold)
      .sort((a, b) => b.score - a.score || a.r.uri.localeCompare(b.r.uri))
      .slice(0, request.limit)
      .map(({ r, score }) => ({
        context_type: "memory",
        uri: r.uri,
        level: 2,
        score,
        category: r.category,
        match_reason: "",
        abstract: r.abstract,
        overview: null,
      }));
    return {
      memories: hits,
      resources: [],
      skills: [],
      ...(withSession ? { query_plan: null } : {}),
      total: hits.length,
    };
  };

  const without = props.without ?? {};
  const refuseParts = (body: unknown) => {
    const list = Array.isArray((body as { messages?: unknown } | undefined)?.messages)
      ? (body as { messages: unknown[] }).messages
      : [body];
    if (without.parts && list.some((m) => typeof m === "object" && m !== null && "parts" in m)) {
      throw new OpenVikingWireError("INVALID_ARGUMENT", "this server does not accept message parts");
    }
  };
  const routes: Route[] = [
    {
      method: "POST",
      pattern: /^\/api\/v1\/sessions$/,
      handle: async (_m, _url, body) => {
        const given =
          body && typeof body === "object" ? (body as Record<string, unknown>).session_id : undefined;
        if (given !== undefined && given !== null && typeof given !== "string") {
          throw new OpenVikingWireError("INVALID_ARGUMENT", "body.session_id: must be a string");
        }
        const id = given ? sessionId(given) : randomUUID().replaceAll("-", "").slice(0, 16);
        await ensureSession(id);
        await manager.getSession(id);
        return {
          session_id: id,
          uri: sessionUri(id),
          user: { account_id: "default", user_id: user },
          auto_commit_policy: null,
        };
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/sessions$/,
      handle: async () =>
        (await records.listSessions()).map((id) => ({ session_id: id, uri: sessionUri(id), is_dir: true })),
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/sessions\/([^/]+)$/,
      handle: async (m, url) => {
        const id = sessionId(m[1]);
        if (url.searchParams.get("auto_create") === "true") await ensureSession(id);
        await requireSession(id);
        const info = await manager.getSession(id);
        const extracted: Record<string, number> = {};
        for (const r of await records.list()) {
          if (r.sessionId === id) extracted[r.category] = (extracted[r.category] ?? 0) + 1;
        }
        const total = Object.values(extracted).reduce((a, b) => a + b, 0);
        return {
          session_id: id,
          uri: sessionUri(id),
          created_at: iso(info.createdAt),
          updated_at: iso(info.updatedAt),
          message_count: info.messageCount,
          commit_count: info.commitCount,
          memories_extracted: { ...extracted, total },
          last_commit_at: info.lastCommitAt === null ? null : iso(info.lastCommitAt),
          pending_tokens: info.pendingTokens,
          user: { account_id: "default", user_id: user },
          auto_commit_policy: null,
        };
      },
    },
    {
      method: "DELETE",
      pattern: /^\/api\/v1\/sessions\/([^/]+)$/,
      handle: async (m) => {
        const id = sessionId(m[1]);
        await requireSession(id);
        await latestTask.get(id);
        await manager.deleteSession(id);
        await records.deleteSession(id);
        return { session_id: id };
      },
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/sessions\/([^/]+)\/messages$/,
      handle: async (m, _url, body) => {
        const id = sessionId(m[1]);
        refuseParts(body);
        const message = parseMessage(body);
        await ensureSession(id);
        const added = await manager.addMessage(id, message);
        await records.journalMessages([{ id: added.messageId, sessionId: id, ...stamped(message) }]);
        return { session_id: id, message_count: added.messageCount };
      },
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/sessions\/([^/]+)\/messages\/batch$/,
      handle: async (m, _url, body) => {
        const id = sessionId(m[1]);
        if (without.batch) throw new OpenVikingWireError("NOT_FOUND", "Not Found");
        refuseParts(body);
        // Validate every message before adding any: a bad batch writes nothing.
        const messages = parseBatch(body);
        await ensureSession(id);
        let count = 0;
        const journal = [];
        for (const message of messages) {
          const added = await manager.addMessage(id, message);
          count = added.messageCount;
          journal.push({ id: added.messageId, sessionId: id, ...stamped(message) });
        }
        // Acknowledged only once journaled.
        await records.journalMessages(journal);
        return { session_id: id, message_count: count, added: messages.length };
      },
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/sessions\/([^/]+)\/commit$/,
      handle: (m) => commit(sessionId(m[1])),
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/tasks$/,
      handle: async (_m, url) => {
        const type = url.searchParams.get("task_type");
        const resource = url.searchParams.get("resource_id");
        const status = url.searchParams.get("status");
        const limit = Number(url.searchParams.get("limit") ?? 50);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new OpenVikingWireError("INVALID_ARGUMENT", "limit: must be an integer from 1 to 1000");
        }
        // Newest first, as upstream lists them.
        return (await records.listTasks())
          .filter(
            (t) =>
              (!type || t.task_type === type) &&
              (!resource || t.resource_id === resource) &&
              (!status || t.status === status),
          )
          .reverse()
          .slice(0, limit)
          .map((t) => ({ ...t }));
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/tasks\/([^/]+)$/,
      handle: async (m) => {
        const taskId = decodeURIComponent(m[1] ?? "");
        const task = tasks.get(taskId) ?? (await records.getTask(taskId));
        if (!task) throw new OpenVikingWireError("NOT_FOUND", `Task not found: ${m[1]}`);
        return { ...task };
      },
    },
    { method: "POST", pattern: /^\/api\/v1\/search\/find$/, handle: search(false) },
    {
      method: "POST",
      pattern: /^\/api\/v1\/search\/search$/,
      handle: (m, url, body) => {
        if (without.search) throw new OpenVikingWireError("NOT_FOUND", "Not Found");
        return search(true)(m, url, body);
      },
    },
    { method: "GET", pattern: /^\/api\/v1\/content\/read$/, handle: readLevel("read") },
    { method: "GET", pattern: /^\/api\/v1\/content\/abstract$/, handle: readLevel("abstract") },
    { method: "GET", pattern: /^\/api\/v1\/content\/overview$/, handle: readLevel("overview") },
    {
      method: "GET",
      pattern: /^\/api\/v1\/fs\/ls$/,
      handle: async (_m, url) => {
        const uri = uriParam(url);
        if (uri === `viking://user/${user}`) {
          return [dirEntry(root, await records.list())];
        }
        if (!(await isKnownDir(uri))) {
          if (await records.get(uri)) throw new OpenVikingWireError("INVALID_ARGUMENT", `${uri} is a file`);
          throw new OpenVikingWireError("NOT_FOUND", `Resource not found: ${uri}`);
        }
        const { dirs, files } = await childrenOf(uri);
        return [
          ...[...dirs.entries()].map(([name, members]) => dirEntry(`${uri}/${name}`, members)),
          ...files.map(fileEntry),
        ];
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/fs\/stat$/,
      handle: async (_m, url) => {
        const uri = uriParam(url);
        const file = await records.get(uri);
        if (file) return fileEntry(file);
        if (await isKnownDir(uri)) return dirEntry(uri, (await childrenOf(uri)).files);
        throw new OpenVikingWireError("NOT_FOUND", `Resource not found: ${uri}`);
      },
    },
    {
      method: "DELETE",
      pattern: /^\/api\/v1\/fs$/,
      handle: async (_m, url) => {
        const uri = uriParam(url);
        if (await records.delete(uri)) return { uri };
        if (await isKnownDir(uri)) {
          throw new OpenVikingWireError(
            "INVALID_ARGUMENT",
            `${uri} is a directory; this server deletes single files only`,
          );
        }
        throw new OpenVikingWireError("NOT_FOUND", `Resource not found: ${uri}`);
      },
    },
  ];

  const authorized = (req: http.IncomingMessage): boolean => {
    if (props.apiKey === undefined) return true;
    const bearer = req.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
    return req.headers["x-api-key"] === props.apiKey || bearer === props.apiKey;
  };

  const send = (res: http.ServerResponse, status: number, payload: unknown, started: number) => {
    const body = JSON.stringify({ ...(payload as object), time: (performance.now() - started) / 1000 });
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  const sendError = (res: http.ServerResponse, error: unknown, started: number) => {
    let wire: OpenVikingWireError;
    if (error instanceof OpenVikingWireError) wire = error;
    else if (isEngramError(error)) {
      const code =
        error.code === "INVALID_ID" || error.code === "INVALID_ARGUMENT"
          ? "INVALID_ARGUMENT"
          : error.code === "NOT_FOUND" || error.code === "SESSION_NOT_FOUND"
            ? "NOT_FOUND"
            : error.code === "CONFLICT" || error.code === "COMMIT_IN_PROGRESS"
              ? "CONFLICT"
              : "INTERNAL";
      wire = new OpenVikingWireError(code, error.message);
    } else wire = new OpenVikingWireError("INTERNAL", "internal server error");
    send(
      res,
      wire.status,
      {
        status: "error",
        error: { code: wire.code, message: wire.message, ...(wire.details ? { details: wire.details } : {}) },
      },
      started,
    );
  };

  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          reject(new OpenVikingWireError("INVALID_ARGUMENT", `request body over ${MAX_BODY_BYTES} bytes`));
          req.destroy();
        } else chunks.push(chunk);
      });
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });

  const server = http.createServer(async (req, res) => {
    const started = performance.now();
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const text = req.method === "GET" || req.method === "HEAD" ? "" : await readBody(req);
      let body: unknown;
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new OpenVikingWireError("INVALID_ARGUMENT", "request body is not valid JSON");
        }
      }
      requests.push({
        method: req.method ?? "GET",
        path: `${url.pathname}${url.search}`,
        body,
        headers: req.headers,
      });
      if (url.pathname === "/health" && req.method === "GET") {
        const health = props.legacyHealth
          ? { status: "ok" }
          : {
              status: "ok",
              healthy: true,
              version: OPENVIKING_SERVER_VERSION,
              auth_mode: props.apiKey === undefined ? "dev" : "api_key",
            };
        const payload = JSON.stringify(health);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(payload);
        return;
      }
      if (!authorized(req)) throw new OpenVikingWireError("UNAUTHENTICATED", "Missing or invalid API key");
      for (const route of routes) {
        if (route.method !== req.method) continue;
        const match = url.pathname.match(route.pattern);
        if (!match) continue;
        const result = await route.handle(match, url, body ?? {});
        send(res, 200, { status: "ok", result }, started);
        return;
      }
      throw new OpenVikingWireError("NOT_FOUND", `No route for ${req.method} ${url.pathname}`);
    } catch (error) {
      if (!res.headersSent) sendError(res, error, started);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const idle = async () => {
    while (background.size > 0) await Promise.allSettled([...background]);
    await manager.drain();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    idle,
    close: async () => {
      await idle();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    kill: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Start-up half of the buffer journal: messages an archive already holds (the previous process died
 * after writing it, before forgetting them) are dropped; the rest go back into their session buffers in
 * acknowledgement order, so the next commit archives them.
 */
async function restoreBuffers(
  records: MemoryRecordStore,
  manager: SessionBufferManager,
  archives: PostgresArchiveStore | undefined,
): Promise<void> {
  const journaled = await records.journaledMessages();
  const archivedIds = new Map<string, Set<string>>();
  const archivedIn = async (sessionId: string) => {
    let ids = archivedIds.get(sessionId);
    if (!ids) {
      ids = new Set();
      for (const summary of (await archives?.listArchives(sessionId, { includeMerged: true })) ?? []) {
        const archive = await archives?.readArchive(sessionId, summary.archiveId);
        for (const message of archive?.messages ?? []) ids.add(message.id);
      }
      archivedIds.set(sessionId, ids);
    }
    return ids;
  };
  const done: string[] = [];
  for (const message of journaled) {
    if ((await archivedIn(message.sessionId)).has(message.id)) {
      done.push(message.id);
      continue;
    }
    const added = await manager.addMessage(message.sessionId, {
      role: message.role as "user" | "assistant",
      content: message.content,
      createdAt: message.createdAt,
    });
    await records.rekeyMessage(message.id, added.messageId);
  }
  await records.forgetMessages(done);
}
