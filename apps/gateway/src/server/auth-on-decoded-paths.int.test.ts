/**
 * Regression (issue 13, item 1): the bearer token was checked only when the raw URL started with
 * `/v1/`, while Fastify routes on the decoded path, so `POST /%76%31/messages` reached the handler with
 * no token at all.
 *
 * Fix: the `/v1` routes live in an encapsulated scope whose `onRequest` hook checks the token, so the
 * check belongs to the route, whatever spelling reached it. This test walks the server's own route
 * table (a route added later is covered without touching it): every route but the public ones must
 * answer 401 without credentials under every spelling of its path that routes to it (one that routes
 * nowhere answers 404), and never run its handler.
 */

import { TELEGRAM_SECRET_HEADER, TelegramAdapter } from "@engram/adapter-telegram";
import { EchoTurnRunner } from "@engram/sessions";
import { routeTable } from "@engram/sessions/http";
import { describeEachBackend } from "@engram/store/testing";
import { pathSpellings, rawHttpRequest } from "@engram/testkit/http-boundary";
import {
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
} from "@engram/testkit/telegram-bot-api-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";

const TOKEN = "test-token-0123456789";
const SECRET = "webhook_secret-0123";
/** Routes anyone may call: probes for load balancers and Prometheus. */
const PUBLIC = new Set(["GET /health", "HEAD /health", "GET /metrics", "HEAD /metrics"]);
/** Routes guarded by a platform's own secret instead of the bearer token. */
const OWN_SECRET: Record<string, string> = { "POST /telegram/webhook": TELEGRAM_SECRET_HEADER };
/** Spellings that certainly route to the route (Fastify decodes %-encoded letters): they must be 401. */
const ROUTED = new Set([
  "as registered",
  "first letter %-encoded",
  "first segment %-encoded",
  "every letter %-encoded (upper-case hex)",
  "last segment %-encoded",
]);

describeEachBackend("gateway auth on every route and spelling", (db) => {
  let botApi: TelegramBotApiServerHandle;
  let gateway: Gateway;
  let runner: EchoTurnRunner;
  let base: string;

  beforeAll(async () => {
    botApi = await startTelegramBotApiServer();
    runner = new EchoTurnRunner();
    const config = parseGatewayConfig({
      token: TOKEN,
      expirySweepIntervalMs: 0,
    });
    gateway = createGateway({
      config,
      db: db(),
      runner,
      extraAdapters: [
        new TelegramAdapter({ botToken: botApi.token, webhookSecret: SECRET, apiBaseUrl: botApi.baseUrl }),
      ],
    });
    base = (await gateway.listen({ host: "127.0.0.1", port: 0 })).address;
  });
  afterAll(async () => {
    await gateway?.close({ drainDeadlineMs: 5000 });
    await botApi?.close();
  });

  it("lists its routes, the token-guarded one and the webhook included", () => {
    const routes = routeTable(gateway.server).map((r) => `${r.method} ${r.url}`);
    expect(routes).toEqual(
      expect.arrayContaining(["POST /v1/messages", "POST /telegram/webhook", "GET /health"]),
    );
  });

  it("answers 401 UNAUTHORIZED to every guarded route without credentials, however its path is spelled", async () => {
    const guarded = routeTable(gateway.server).filter((r) => !PUBLIC.has(`${r.method} ${r.url}`));
    expect(guarded.length).toBeGreaterThan(0);
    const seen: string[] = [];
    for (const route of guarded) {
      const key = `${route.method} ${route.url}`;
      const concrete = route.url.replace(/:([A-Za-z0-9_]+)/g, "x_1");
      for (const spelling of pathSpellings(concrete)) {
        const headers = {
          "content-type": "application/json",
          ...(OWN_SECRET[key] ? {} : { authorization: "Bearer wrong-token-000000" }),
        };
        for (const sent of [{ "content-type": "application/json" }, headers]) {
          const response = await rawHttpRequest(base, {
            method: route.method,
            path: spelling.path,
            headers: sent,
            body: JSON.stringify({ source: { platform: "telegram", chatId: "1" }, text: "must not run" }),
          });
          const code = (response.json as { error?: { code?: string } } | undefined)?.error?.code;
          const outcome = `${key} as ${spelling.name} (${spelling.path}): ${response.status} ${code}`;
          seen.push(outcome);
          if (ROUTED.has(spelling.name))
            expect(outcome).toBe(`${key} as ${spelling.name} (${spelling.path}): 401 UNAUTHORIZED`);
          else expect([`401 UNAUTHORIZED`, "404 NOT_FOUND"], outcome).toContain(`${response.status} ${code}`);
        }
      }
    }
    // No handler ran: nothing was routed, no turn started, nothing was sent to Telegram.
    expect(await gateway.routingIndex.count()).toBe(0);
    expect(runner.inputs).toEqual([]);
    expect(botApi.sentMessages).toEqual([]);
    expect(seen.length).toBeGreaterThan(20);
  });

  it("lets the right credentials through on the same routes (the check is not refusing everything)", async () => {
    const answer = await rawHttpRequest(base, {
      method: "POST",
      path: "/%76%31/messages",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ source: { platform: "telegram", chatId: "1", userId: "1" }, text: "hello" }),
    });
    expect([answer.status, (answer.json as { reply: string }).reply]).toEqual([200, "echo: hello"]);
  });
});
