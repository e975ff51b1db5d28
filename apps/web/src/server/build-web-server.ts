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
import { answerClientError, parseInput, recordRoutes, sendFrameworkError } from "@engram/sessions/http";
import { isConnectionFailure } from "@engram/store";
import fastifyStatic from "@fastify/static";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import type { ChatService } from "../chat/chat-service.js";
import type { ChatStreamEvent, ChatStreams } from "../chat/chat-streams.js";
import { memoryRoutes, type OpenedMemory } from "./memory-routes.js";
import type { MessagingFeed } from "./messaging-feed.js";
import {
  branchBody,
  chatStartBody,
  importBody,
  listQuery,
  loginBody,
  newSessionBody,
  patchSessionBody,
  projectBody,
  searchQuery,
  streamBody,
  streamQuery,
  undoBody,
} from "./request-schemas.js";
import { uiRoutes } from "./ui-routes.js";
import type { WebAuth } from "./web-auth.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A successful request of this route changes the web session list (`sessions` on /api/events). */
    changesSessions?: boolean;
  }
}

export interface BuildWebServerProps {
  readonly sessions: WebSessionStore;
  readonly transcripts: TranscriptStore;
  readonly chat: ChatService;
  readonly streams: ChatStreams;
  readonly messaging: MessagingFeed;
  readonly auth: WebAuth;
  readonly checkHealth?: () => Promise<void>;
  readonly uiDir?: string | undefined;
  /** Opens the web owner's memory scope for `GET/DELETE /api/memory` (absent: nothing to list). */
  readonly openMemory?: (() => OpenedMemory) | undefined;
  /** The chat model's id, shown on replies (`GET /api/info`). */
  readonly modelId?: string | undefined;
  readonly logger?: FastifyServerOptions["logger"];
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
 *
 * Access is decided by route, never by the URL string (Fastify routes on the decoded path, so
 * `/%61pi/sessions` is `/api/sessions`): the API lives in an encapsulated `/api` scope, and its
 * protected routes in a nested scope whose `onRequest` hooks require the login and, for every method
 * but GET/HEAD, the CSRF double submit. `/api/health`, `/api/auth` and `/api/login` (CSRF only) and the
 * static UI are the only public routes.
 */
export function buildWebServer(props: BuildWebServerProps): FastifyInstance {
  const app = Fastify({
    logger: props.logger ?? false,
    bodyLimit: 1024 * 1024,
    // Refused before any route runs (an undecodable path, a malformed request line, oversized headers):
    // answered in the error shape every client of this server parses.
    frameworkErrors: (error, _request, reply) => sendFrameworkError(error, reply),
    clientErrorHandler: answerClientError,
  });
  recordRoutes(app);
  const { sessions, chat, streams, messaging, auth } = props;
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
  const changesSessions = { config: { changesSessions: true } } as const;
  // An event stream never ends by itself, so it has no HEAD twin (a HEAD would hang the same way).
  const eventStream = { exposeHeadRoute: false } as const;

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
  app.addHook("preClose", async () => {
    for (const close of openStreams) close();
  });

  const api = async (scope: FastifyInstance) => {
    // Whatever spelling reached this scope is an API path: a JSON 404, never the UI's index.html.
    scope.setNotFoundHandler((request, reply) => reply.status(404).send(notFound(request)));

    scope.get("/health", async (_request, reply) => {
      try {
        await props.checkHealth?.();
      } catch {
        return reply.status(503).send({ status: "unavailable" });
      }
      return { status: "ok" };
    });

    scope.get("/auth", async (request, reply) => {
      auth.ensureCsrfCookie(request, reply);
      return { authRequired: auth.required, authenticated: auth.isAuthenticated(request) };
    });
    scope.post("/login", async (request, reply) => {
      auth.checkCsrf(request);
      auth.login(parseInput(loginBody, request.body, "body").token, reply);
      return reply.status(204).send();
    });

    await scope.register(protectedApi);
  };

  const protectedApi = async (scope: FastifyInstance) => {
    scope.addHook("onRequest", async (request: FastifyRequest) => {
      if (!auth.isAuthenticated(request)) throw new EngramError("UNAUTHORIZED", "Log in first");
      if (request.method !== "GET" && request.method !== "HEAD") auth.checkCsrf(request);
    });
    scope.addHook("onResponse", async (request, reply) => {
      if (request.routeOptions.config.changesSessions && reply.statusCode < 400) sessionsChanged();
    });

    await scope.register(uiRoutes, { modelId: props.modelId });
    await scope.register(memoryRoutes, { openMemory: props.openMemory });

    // --- web sessions --------------------------------------------------------------------------
    scope.get("/sessions", async (request) => {
      const q = parseInput(listQuery, request.query, "query");
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

    scope.post("/session/new", changesSessions, async (request, reply) => {
      const body = parseInput(newSessionBody, request.body, "body");
      if (body.prevSessionId !== undefined && !(await sessions.getSummary(body.prevSessionId))) {
        throw new EngramError("SESSION_NOT_FOUND", `No web session ${body.prevSessionId}`);
      }
      const session = await sessions.create({
        ...(body.title === undefined ? {} : { title: body.title }),
        ...(body.profile === undefined ? {} : { profile: body.profile }),
        ...(body.projectId === undefined ? {} : { projectId: body.projectId }),
      });
      // Leaving a session (`prevSessionId` or any other) for a new one is a boundary (seed 000): the
      // owner's other sessions are committed before the new one's first recall.
      await chat.enter(session.id);
      return reply.status(201).send({ session });
    });

    scope.get("/session/:id", async (request) => {
      const id = sessionIdParam(request.params);
      const session = await sessions.get(id);
      if (!session) throw new EngramError("SESSION_NOT_FOUND", `No web session ${id}`);
      // Opening a session is a boundary too: the owner left whichever one was open.
      await chat.enter(id);
      return { session: { ...session, streaming: streams.isActive(id) } };
    });

    scope.patch("/session/:id", changesSessions, async (request) => {
      const id = sessionIdParam(request.params);
      const patch = parseInput(patchSessionBody, request.body, "body");
      return { session: await sessions.updateMetadata(id, patch) };
    });

    scope.delete("/session/:id", changesSessions, async (request, reply) => {
      const id = sessionIdParam(request.params);
      if (streams.isActive(id)) throw new EngramError("STREAM_ACTIVE", `Session ${id} is streaming`);
      await sessions.delete(id);
      return reply.status(204).send();
    });

    scope.post("/session/:id/undo", changesSessions, async (request) => {
      const id = sessionIdParam(request.params);
      const { count } = parseInput(undoBody, request.body, "body");
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

    scope.post("/session/:id/branch", changesSessions, async (request, reply) => {
      const id = sessionIdParam(request.params);
      const body = parseInput(branchBody, request.body, "body");
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
      await chat.enter(child.id);
      return reply.status(201).send({ session: saved });
    });

    scope.post("/session/:id/retry", changesSessions, async (request, reply) => {
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

    scope.post("/session/import", changesSessions, async (request) => {
      const body = parseInput(importBody, request.body, "body");
      return {
        session: await sessions.importSession(body.sessionId, body.title ? { title: body.title } : {}),
      };
    });

    scope.get("/search", async (request) => {
      const { q } = parseInput(searchQuery, request.query, "query");
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

    scope.get("/projects", async () => ({ projects: await sessions.listProjects() }));
    scope.post("/projects", async (request, reply) => {
      const { name } = parseInput(projectBody, request.body, "body");
      return reply.status(201).send({ project: await sessions.createProject({ name }) });
    });

    // --- chat ----------------------------------------------------------------------------------
    scope.post("/chat/start", changesSessions, async (request, reply) => {
      const body = parseInput(chatStartBody, request.body, "body");
      const started = await chat.start(body.sessionId, body.message);
      watchTurn(started.streamId);
      return reply.status(202).send(started);
    });

    scope.get("/chat/stream", eventStream, async (request, reply) => {
      const { streamId } = parseInput(streamQuery, request.query, "query");
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

    scope.post("/chat/cancel", async (request, reply) => {
      const { streamId } = parseInput(streamBody, request.body, "body");
      streams.cancel(streamId);
      return reply.status(204).send();
    });

    scope.get("/session/:id/memory", async (request) => {
      return chat.memoryPanel(sessionIdParam(request.params));
    });

    // --- messaging sessions (the gateway's) -----------------------------------------------------
    scope.get("/messaging/sessions", async () => ({ sessions: await messaging.list() }));
    scope.get("/messaging/session/:id", async (request) => {
      const id = sessionIdParam(request.params);
      const session = await props.transcripts.getSession(id);
      if (!session || session.source === "web")
        throw new EngramError("SESSION_NOT_FOUND", `No messaging session ${id}`);
      const messages = await props.transcripts.getMessages(id);
      return { session: { ...session, ...(await messaging.namesFor(session.sessionKey)), messages } };
    });

    scope.get("/events", eventStream, async (request, reply) => {
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
  };

  void app.register(api, { prefix: "/api" });

  if (props.uiDir && existsSync(props.uiDir)) {
    void app.register(fastifyStatic, { root: props.uiDir, wildcard: false });
    app.setNotFoundHandler((request, reply) => {
      // Client-side routes of the UI get its index.html. A path the router did not match to the API
      // scope may still name the API in a spelling it does not route (`//api/x`, `/API/x`, `/./api`):
      // those get the JSON 404 too, never a page.
      if ((request.method === "GET" || request.method === "HEAD") && !namesApi(request.url)) {
        return reply.sendFile("index.html");
      }
      return reply.status(404).send(notFound(request));
    });
  } else {
    app.setNotFoundHandler((request, reply) => reply.status(404).send(notFound(request)));
  }
  return app;
}

function notFound(request: FastifyRequest) {
  return new EngramError("NOT_FOUND", `No route ${request.method} ${request.url}`).toJSON();
}

/**
 * Whether a request target is under `/api` once decoded, its empty, `.` and `..` segments resolved
 * (as a browser would) and lower-cased. Only decides between the UI page and a JSON 404 for paths no
 * route matched; access is never decided here.
 */
function namesApi(url: string): boolean {
  const path = url.split("?", 1)[0] ?? "";
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true; // not a path the UI has either
  }
  const segments: string[] = [];
  for (const segment of decoded.split(/[/\\]/)) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return segments[0]?.toLowerCase() === "api";
}
