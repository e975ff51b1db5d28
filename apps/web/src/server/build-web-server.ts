import { existsSync } from "node:fs";
import {
  assertSafeId,
  EngramError,
  InvalidArgumentError,
  isEngramError,
  StoreError,
  type TranscriptStore,
  type WebSessionStore,
} from "@engram/core";
import { isConnectionFailure } from "@engram/store";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from "fastify";
import { z } from "zod";
import type { WebAgentPool } from "../agents/web-agent-pool.js";
import type { ChatService } from "../chat/chat-service.js";
import type { ChatStreamEvent, ChatStreams } from "../chat/chat-streams.js";
import type { MessagingFeed } from "./messaging-feed.js";
import type { WebAuth } from "./web-auth.js";

export interface BuildWebServerProps {
  readonly sessions: WebSessionStore;
  readonly transcripts: TranscriptStore;
  readonly agents: WebAgentPool;
  readonly chat: ChatService;
  readonly streams: ChatStreams;
  readonly messaging: MessagingFeed;
  readonly auth: WebAuth;
  /** Runs the boundary commit of a session left for good (in the background). */
  readonly commitInBackground: (sessionId: string) => void;
  readonly checkHealth?: () => Promise<void>;
  readonly uiDir?: string | undefined;
  readonly logger?: FastifyServerOptions["logger"];
}

const newSessionBody = z
  .object({
    prevSessionId: z.string().optional(),
    title: z.string().optional(),
    profile: z.string().optional(),
    projectId: z.string().optional(),
  })
  .strict();
const patchBody = z
  .object({
    title: z.string().nullable().optional(),
    pinned: z.boolean().optional(),
    archived: z.boolean().optional(),
    projectId: z.string().nullable().optional(),
  })
  .strict();
const chatStartBody = z.object({ sessionId: z.string(), message: z.unknown() }).strict();
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  projectId: z.string().optional(),
  archived: z.enum(["0", "1"]).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new InvalidArgumentError(
    `${what}${issue?.path.length ? `.${issue.path.join(".")}` : ""}`,
    issue?.message ?? "is malformed",
  );
}

function sessionIdParam(params: unknown): string {
  const id = (params as { id?: string }).id ?? "";
  assertSafeId("session id", id);
  return id;
}

function sse(reply: FastifyReply): (event: string, data: unknown) => void {
  reply.hijack();
  reply.raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  reply.raw.write(": connected\n\n");
  return (event, data) => {
    reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

/**
 * The web server's HTTP surface (`/api/*`, Server-Sent Events for chat and live messaging sessions,
 * and the built UI at `/`). Every error answers `{ error: { code, message } }` with its code's status.
 */
export function buildWebServer(props: BuildWebServerProps): FastifyInstance {
  const app = Fastify({ logger: props.logger ?? false, bodyLimit: 1024 * 1024 });
  const { sessions, agents, chat, streams, messaging, auth } = props;
  const openStreams = new Set<() => void>();
  // "The web session list changed" for /api/events: every successful state change of a session, and
  // the end of each chat turn (its messages and title are saved by then).
  const sessionWatchers = new Set<() => void>();
  const sessionsChanged = () => {
    for (const watcher of sessionWatchers) watcher();
  };
  const watchTurn = (streamId: string) => {
    const stop = streams.subscribe(streamId, (event: ChatStreamEvent) => {
      if (event.event !== "done" && event.event !== "error") return;
      queueMicrotask(() => stop());
      sessionsChanged();
    });
  };

  app.setErrorHandler((error, request, reply) => {
    if (isEngramError(error)) return reply.status(error.httpStatus).send(error.toJSON());
    const fastifyCode = (error as { code?: string }).code;
    if (fastifyCode === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.status(413).send(new EngramError("CONTENT_TOO_LARGE", "Request body too large").toJSON());
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const message = error instanceof Error ? error.message : "Malformed request";
      return reply.status(400).send(new EngramError("INVALID_ARGUMENT", message).toJSON());
    }
    if (isConnectionFailure(error)) {
      // A dropped database connection that no store wrapped: the next request gets a new one.
      request.log.warn({ err: error }, "request failed: database connection lost");
      return reply
        .status(503)
        .send(new StoreError(`${request.method} ${request.routeOptions.url}`, error).toJSON());
    }
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send(new EngramError("INTERNAL", "Internal error").toJSON());
  });

  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith("/api/")) return;
    const path = request.url.split("?")[0];
    if (path === "/api/health" || path === "/api/auth" || path === "/api/login") return;
    if (!auth.isAuthenticated(request)) throw new EngramError("UNAUTHORIZED", "Log in first");
    if (request.method !== "GET" && request.method !== "HEAD") auth.checkCsrf(request);
    void reply;
  });
  app.addHook("onResponse", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD" || reply.statusCode >= 400) return;
    const path = request.url.split("?")[0] ?? "";
    if (path.startsWith("/api/session") || path === "/api/chat/start") sessionsChanged();
  });
  app.addHook("preClose", async () => {
    for (const close of openStreams) close();
  });

  app.get("/api/health", async (_request, reply) => {
    try {
      await props.checkHealth?.();
    } catch {
      return reply.status(503).send({ status: "unavailable" });
    }
    return { status: "ok" };
  });

  app.get("/api/auth", async (request, reply) => {
    auth.ensureCsrfCookie(request, reply);
    return { authRequired: auth.required, authenticated: auth.isAuthenticated(request) };
  });
  app.post("/api/login", async (request, reply) => {
    auth.checkCsrf(request);
    auth.login((request.body as { token?: unknown } | undefined)?.token, reply);
    return reply.status(204).send();
  });

  // --- web sessions ----------------------------------------------------------------------------
  app.get("/api/sessions", async (request) => {
    const q = parse(listQuery, request.query, "query");
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const list = await sessions.list({
      limit: limit + 1,
      offset,
      ...(q.projectId === undefined ? {} : { projectId: q.projectId }),
      includeArchived: q.archived === "1",
    });
    return { sessions: list.slice(0, limit), nextOffset: list.length > limit ? offset + limit : null };
  });

  app.post("/api/session/new", async (request, reply) => {
    const body = parse(newSessionBody, request.body, "body");
    if (body.prevSessionId !== undefined) {
      assertSafeId("prevSessionId", body.prevSessionId);
      if (!(await sessions.getSummary(body.prevSessionId))) {
        throw new EngramError("SESSION_NOT_FOUND", `No web session ${body.prevSessionId}`);
      }
    }
    const session = await sessions.create({
      ...(body.title === undefined ? {} : { title: body.title }),
      ...(body.profile === undefined ? {} : { profile: body.profile }),
      ...(body.projectId === undefined ? {} : { projectId: body.projectId }),
    });
    // Leaving a session for a new one is a real boundary (seed 000): its memory is committed.
    if (body.prevSessionId !== undefined) props.commitInBackground(body.prevSessionId);
    return reply.status(201).send({ session });
  });

  app.get("/api/session/:id", async (request) => {
    const id = sessionIdParam(request.params);
    const session = await sessions.get(id);
    if (!session) throw new EngramError("SESSION_NOT_FOUND", `No web session ${id}`);
    return { session: { ...session, streaming: streams.isActive(id) } };
  });

  app.patch("/api/session/:id", async (request) => {
    const id = sessionIdParam(request.params);
    const patch = parse(patchBody, request.body, "body");
    return { session: await sessions.updateMetadata(id, patch) };
  });

  app.delete("/api/session/:id", async (request, reply) => {
    const id = sessionIdParam(request.params);
    if (streams.isActive(id)) throw new EngramError("STREAM_ACTIVE", `Session ${id} is streaming`);
    await sessions.delete(id);
    return reply.status(204).send();
  });

  app.post("/api/session/:id/undo", async (request) => {
    const id = sessionIdParam(request.params);
    const count = parse(
      z.object({ count: z.number().int().min(1).max(100).optional() }).strict(),
      request.body,
      "body",
    ).count;
    if (streams.isActive(id)) throw new EngramError("STREAM_ACTIVE", `Session ${id} is streaming`);
    const session = await sessions.get(id);
    if (!session) throw new EngramError("SESSION_NOT_FOUND", `No web session ${id}`);
    // Rewind to before the count-th last user message.
    let keep = session.messages.length;
    let users = 0;
    for (let i = session.messages.length - 1; i >= 0; i--) {
      if (session.messages[i]?.role === "user" && ++users === (count ?? 1)) {
        keep = i;
        break;
      }
    }
    if (users === 0) return { session, removed: 0 };
    await sessions.truncateMessages(id, { keep, expectedCount: session.messages.length });
    const after = await sessions.get(id);
    return { session: after, removed: session.messages.length - keep };
  });

  app.post("/api/session/:id/branch", async (request, reply) => {
    const id = sessionIdParam(request.params);
    const body = parse(
      z.object({ keep: z.number().int().min(0).optional(), title: z.string().optional() }).strict(),
      request.body,
      "body",
    );
    const source = await sessions.get(id);
    if (!source) throw new EngramError("SESSION_NOT_FOUND", `No web session ${id}`);
    const keep = Math.min(body.keep ?? source.messages.length, source.messages.length);
    const child = await sessions.create({ title: body.title ?? `${source.title} (branch)` });
    const copied = source.messages.slice(0, keep).map((m) => ({
      role: m.role,
      content: m.content,
      ...(m.toolCalls ? { toolCalls: m.toolCalls } : {}),
      ...(m.toolName ? { toolName: m.toolName } : {}),
      ...(m.toolCallId ? { toolCallId: m.toolCallId } : {}),
    }));
    const saved = copied.length > 0 ? (await sessions.appendMessages(child.id, copied)).summary : child;
    return reply.status(201).send({ session: saved });
  });

  app.post("/api/session/:id/retry", async (request, reply) => {
    const id = sessionIdParam(request.params);
    if (streams.isActive(id)) throw new EngramError("STREAM_ACTIVE", `Session ${id} is streaming`);
    const session = await sessions.get(id);
    if (!session) throw new EngramError("SESSION_NOT_FOUND", `No web session ${id}`);
    const lastUser = session.messages.findLastIndex((m) => m.role === "user");
    const text = session.messages[lastUser]?.content;
    if (lastUser < 0 || !text) throw new InvalidArgumentError("session", "has no user message to retry");
    await sessions.truncateMessages(id, { keep: lastUser, expectedCount: session.messages.length });
    const started = await chat.start(id, text);
    watchTurn(started.streamId);
    return reply.status(202).send(started);
  });

  app.post("/api/session/import", async (request) => {
    const body = parse(
      z.object({ sessionId: z.string(), title: z.string().optional() }).strict(),
      request.body,
      "body",
    );
    assertSafeId("sessionId", body.sessionId);
    return {
      session: await sessions.importSession(body.sessionId, body.title ? { title: body.title } : {}),
    };
  });

  app.get("/api/search", async (request) => {
    const { q } = parse(z.object({ q: z.string().min(1).max(200) }), request.query, "query");
    const needle = q.toLowerCase();
    const titled = (await sessions.list({ limit: 500 })).filter((s) =>
      s.title.toLowerCase().includes(needle),
    );
    const hits = await props.transcripts.searchMessages({ query: q, scope: { source: "web" }, limit: 50 });
    const seen = new Set<string>();
    const results = [];
    for (const s of titled) {
      seen.add(s.id);
      results.push({ sessionId: s.id, title: s.title, snippet: s.title, source: s.source });
    }
    for (const hit of hits) {
      if (seen.has(hit.sessionId)) continue;
      const summary = await sessions.getSummary(hit.sessionId);
      if (!summary) continue;
      seen.add(hit.sessionId);
      results.push({
        sessionId: hit.sessionId,
        title: summary.title,
        snippet: hit.snippet,
        source: summary.source,
      });
    }
    return { results };
  });

  app.get("/api/projects", async () => ({ projects: await sessions.listProjects() }));
  app.post("/api/projects", async (request, reply) => {
    const { name } = parse(z.object({ name: z.string().min(1).max(100) }).strict(), request.body, "body");
    return reply.status(201).send({ project: await sessions.createProject({ name }) });
  });

  // --- chat ------------------------------------------------------------------------------------
  app.post("/api/chat/start", async (request, reply) => {
    const body = parse(chatStartBody, request.body, "body");
    assertSafeId("sessionId", body.sessionId);
    const started = await chat.start(body.sessionId, body.message);
    watchTurn(started.streamId);
    return reply.status(202).send(started);
  });

  app.get("/api/chat/stream", async (request, reply) => {
    const { streamId } = parse(z.object({ streamId: z.string().min(1) }), request.query, "query");
    const send = sse(reply);
    let unsubscribe: () => void = () => undefined;
    const end = () => {
      unsubscribe();
      openStreams.delete(end);
      reply.raw.end();
    };
    openStreams.add(end);
    request.raw.on("close", end);
    try {
      unsubscribe = streams.subscribe(streamId, (event: ChatStreamEvent) => {
        send(event.event, event.data);
        if (event.event === "done" || event.event === "error") queueMicrotask(end);
      });
    } catch (error) {
      send(
        "error",
        isEngramError(error) ? { code: error.code, message: error.message } : { code: "INTERNAL" },
      );
      end();
    }
  });

  app.post("/api/chat/cancel", async (request, reply) => {
    const { streamId } = parse(z.object({ streamId: z.string().min(1) }).strict(), request.body, "body");
    streams.cancel(streamId);
    return reply.status(204).send();
  });

  app.get("/api/session/:id/memory", async (request) => {
    const id = sessionIdParam(request.params);
    const state = agents.memoryState(id);
    const byProvider = new Map<string, string>();
    for (const recall of state.lastRecalls) byProvider.set(recall.provider, recall.text);
    return {
      providers: [...agents.providerNames()].map((name) => ({
        name,
        lastRecall: byProvider.get(name) ?? null,
      })),
      uncommittedTurns: state.uncommittedTurns,
      lastCommit: state.lastCommit,
    };
  });

  // --- messaging sessions (the gateway's) -------------------------------------------------------
  app.get("/api/messaging/sessions", async () => ({ sessions: await messaging.list() }));
  app.get("/api/messaging/session/:id", async (request) => {
    const id = sessionIdParam(request.params);
    const session = await props.transcripts.getSession(id);
    if (!session || session.source === "web")
      throw new EngramError("SESSION_NOT_FOUND", `No messaging session ${id}`);
    const messages = await props.transcripts.getMessages(id);
    return { session: { ...session, messages } };
  });

  app.get("/api/events", async (request, reply) => {
    const send = sse(reply);
    const unsubscribe = messaging.subscribe((sessionId) => send("messaging", { sessionId }));
    const sessionsWatcher = () => send("sessions", {});
    sessionWatchers.add(sessionsWatcher);
    const ping = setInterval(() => reply.raw.write(": ping\n\n"), 15_000);
    const end = () => {
      clearInterval(ping);
      unsubscribe();
      sessionWatchers.delete(sessionsWatcher);
      openStreams.delete(end);
      reply.raw.end();
    };
    openStreams.add(end);
    request.raw.on("close", end);
  });

  if (props.uiDir && existsSync(props.uiDir)) {
    void app.register(fastifyStatic, { root: props.uiDir, wildcard: false });
    app.setNotFoundHandler((request, reply) => {
      if (request.method === "GET" && !request.url.startsWith("/api/")) return reply.sendFile("index.html");
      return reply
        .status(404)
        .send(new EngramError("NOT_FOUND", `No route ${request.method} ${request.url}`).toJSON());
    });
  } else {
    app.setNotFoundHandler((request, reply) =>
      reply
        .status(404)
        .send(new EngramError("NOT_FOUND", `No route ${request.method} ${request.url}`).toJSON()),
    );
  }
  return app;
}
