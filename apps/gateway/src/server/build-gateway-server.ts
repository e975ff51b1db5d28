import { timingSafeEqual } from "node:crypto";
import { EngramError, isEngramError, parseSessionSource, StoreError } from "@engram/core";
import type { SessionTurnHandler } from "@engram/sessions";
import { answerClientError, parseInput, recordRoutes, sendFrameworkError } from "@engram/sessions/http";
import { isConnectionFailure } from "@engram/store";
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from "fastify";
import type { GatewayMetrics } from "./gateway-metrics.js";
import { messageRequestBody } from "./message-request.js";
import { type OpenAICompatibleProps, registerOpenAICompatibleRoutes } from "./openai-compatible-routes.js";

export interface BuildGatewayServerProps {
  readonly handler: SessionTurnHandler;
  readonly metrics: GatewayMetrics;
  /** Bearer token of the `/v1` routes. Without one every request is let through: pass none only in dev on loopback. */
  readonly token?: string | undefined;
  /** Fastify logger option: `false` (tests), `true`, or pino options. */
  readonly logger?: FastifyServerOptions["logger"];
  /** Largest request body in bytes (default 1 MiB); bigger bodies get `CONTENT_TOO_LARGE`. */
  readonly bodyLimit?: number;
  /** Extra readiness check for `/health` (e.g. a database ping); a throw answers 503. */
  readonly checkHealth?: () => Promise<void>;
  /** Serves the OpenAI-compatible API (`/v1/chat/completions`, `/v1/models`) over `handler` when given. */
  readonly openaiCompatible?: Omit<OpenAICompatibleProps, "handler">;
}

function errorBody(code: EngramError["code"], message: string) {
  return new EngramError(code, message).toJSON();
}

function tokensEqual(expected: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice("Bearer ".length));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The gateway's HTTP surface: `GET /health`, `GET /metrics` and `POST /v1/messages`. Returns the
 * Fastify instance unstarted (tests `listen` on port 0). Every error answers with the
 * `{ error: { code, message } }` shape and the status of its code.
 */
/**
 * The gateway's HTTP surface: `GET /health`, `GET /metrics` and `POST /v1/messages`. Returns the
 * Fastify instance unstarted (tests `listen` on port 0). Every error answers with the
 * `{ error: { code, message } }` shape and the status of its code.
 *
 * The bearer token guards the `/v1` routes by construction: they live in an encapsulated scope whose
 * `onRequest` hook checks it, so the hook runs for whatever spelling of a path the router matched to
 * them (`/%76%31/messages` included). Routes registered outside that scope (health, metrics, platform
 * webhooks with their own secret) are public.
 */
export function buildGatewayServer(props: BuildGatewayServerProps): FastifyInstance {
  const app = Fastify({
    logger: props.logger ?? false,
    bodyLimit: props.bodyLimit ?? 1024 * 1024,
    // Refused before any route runs (an undecodable path, a malformed request line, oversized headers):
    // answered in the error shape every client of this server parses.
    frameworkErrors: (error, _request, reply) => sendFrameworkError(error, reply),
    clientErrorHandler: answerClientError,
  });
  recordRoutes(app);
  const expected = props.token === undefined ? undefined : Buffer.from(props.token);

  app.setErrorHandler((error, request, reply) => {
    if (isEngramError(error)) return reply.status(error.httpStatus).send(error.toJSON());
    const fastifyCode = (error as { code?: string }).code;
    if (fastifyCode === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.status(413).send(errorBody("CONTENT_TOO_LARGE", "Request body exceeds the size limit"));
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Malformed JSON, wrong content type and the like: the client's fault, with Fastify's reason.
      const message = error instanceof Error ? error.message : "Malformed request";
      return reply.status(400).send(errorBody("INVALID_ARGUMENT", message));
    }
    if (isConnectionFailure(error)) {
      // A dropped database connection that no store wrapped: the next request gets a new one.
      request.log.warn({ err: error }, "request failed: database connection lost");
      return reply
        .status(503)
        .send(new StoreError(`${request.method} ${request.routeOptions.url}`, error).toJSON());
    }
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send(errorBody("INTERNAL", "Internal error"));
  });

  // Responses finished while the server closes end their connection: otherwise an in-flight request's
  // keep-alive socket holds close() open until the keep-alive timeout (72 s in Fastify).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody("NOT_FOUND", `No route ${request.method} ${request.url}`)),
  );

  app.get("/health", async (_request, reply) => {
    try {
      await props.checkHealth?.();
    } catch {
      return reply.status(503).send({ status: "unavailable" });
    }
    return { status: "ok" };
  });

  app.get("/metrics", async (_request, reply) => {
    props.metrics.queueDepth.set(props.handler.queueDepth);
    const body = await props.metrics.registry.metrics();
    return reply.type(props.metrics.registry.contentType).send(body);
  });

  void app.register(
    async (v1) => {
      // Every route of this scope and its not-found answer: nothing under /v1 is reached unchecked.
      v1.addHook("onRequest", async (request: FastifyRequest) => {
        if (expected && !tokensEqual(expected, request.headers.authorization)) {
          throw new EngramError("UNAUTHORIZED", "Missing or wrong bearer token");
        }
      });
      v1.setNotFoundHandler((request, reply) =>
        reply.status(404).send(errorBody("NOT_FOUND", `No route ${request.method} ${request.url}`)),
      );

      v1.post("/messages", async (request) => {
        const body = parseInput(messageRequestBody, request.body, "body");
        // The source's own schema (ids path-safe and storable): refused here, before any work is queued.
        const source = parseSessionSource(body.source);
        const result = await props.handler.handle({
          source,
          text: body.text,
          messageId: body.messageId ?? undefined,
          timestamp: body.timestamp ?? undefined,
        });
        return {
          sessionId: result.sessionId,
          sessionKey: result.sessionKey,
          reply: result.reply,
          ...(result.autoReset ? { autoReset: result.autoReset } : {}),
          ...(result.duplicate ? { duplicate: true } : {}),
          ...(result.pending ? { pending: true } : {}),
          ...(result.stopped ? { stopped: true } : {}),
        };
      });

      if (props.openaiCompatible)
        registerOpenAICompatibleRoutes(v1, { handler: props.handler, ...props.openaiCompatible });
    },
    { prefix: "/v1" },
  );

  return app;
}
