/**
 * Property-based fuzzing of the gateway's whole HTTP surface (issue 13): a thousand generated requests
 * per backend over every route of the server's own route table (so a new route is fuzzed too), with
 * and without credentials. Bodies are the routes' well-formed requests with each field replaced,
 * removed, given a NUL or an unpaired surrogate, or a number past its range; plus malformed JSON,
 * wrong content types, undecodable paths and queries, odd cookies and headers. No answer may be a 5xx,
 * every 4xx is a JSON error with a catalog code, and the server is healthy afterwards.
 */

import { TELEGRAM_SECRET_HEADER, TelegramAdapter } from "@engram/adapter-telegram";
import { EchoTurnRunner } from "@engram/sessions";
import { routeTable } from "@engram/sessions/http";
import { describeEachBackend } from "@engram/store/testing";
import { fuzzHttpRoutes } from "@engram/testkit/http-boundary";
import {
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";

const TOKEN = "test-token-0123456789";
const SECRET = "webhook_secret-0123";
const REQUESTS = 1000;

describeEachBackend("gateway HTTP fuzzing", (db) => {
  let botApi: TelegramBotApiServerHandle;
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    botApi = await startTelegramBotApiServer();
    const config = parseGatewayConfig({
      token: TOKEN,
      expirySweepIntervalMs: 0,
    });
    gateway = createGateway({
      config,
      db: db(),
      runner: new EchoTurnRunner(),
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

  it(`answers ${REQUESTS} malformed requests over every route with coded 4xx, never a 5xx, and stays healthy`, async () => {
    const routes = routeTable(gateway.server);
    const result = await fuzzHttpRoutes({
      baseUrl: base,
      routes,
      examples: {
        "POST /v1/messages": {
          body: {
            source: {
              platform: "telegram",
              chatId: "42",
              chatType: "thread",
              userId: "42",
              threadId: "7",
              chatName: "Team",
              userName: "alice",
            },
            text: "hello",
            messageId: "m1",
            timestamp: Date.UTC(2026, 0, 1),
          },
        },
        "POST /v1/chat/completions": {
          body: {
            model: "engram",
            user: "fuzz",
            messages: [
              { role: "system", content: "be brief" },
              { role: "user", content: "hello" },
              { role: "assistant", content: "echo: hello" },
              { role: "user", content: [{ type: "text", text: "again" }] },
            ],
            stream: false,
          },
        },
        "POST /telegram/webhook": {
          body: telegramMessageUpdate({
            updateId: 1,
            messageId: 1,
            chat: { id: 501, type: "supergroup", title: "Forum", is_forum: true },
            from: { id: 501, first_name: "Alice", username: "alice" },
            text: "hello",
            topicId: 3,
          }),
        },
      },
      credentials: [
        { authorization: `Bearer ${TOKEN}`, [TELEGRAM_SECRET_HEADER]: SECRET },
        { authorization: `Bearer ${TOKEN}` },
        { [TELEGRAM_SECRET_HEADER]: SECRET },
        { authorization: "Bearer wrong-token-000000" },
        {},
      ],
      numRuns: REQUESTS,
    });
    console.log(
      `[fuzz] gateway [${db.backend.name}]: ${result.requests} requests over ${result.routesHit} of ${routes.length} routes, ${result.serverErrors} 5xx; statuses ${JSON.stringify(result.statuses)}`,
    );
    expect(result.requests).toBeGreaterThanOrEqual(REQUESTS);
    expect(result.serverErrors).toBe(0);
    expect(result.routesHit).toBe(routes.length);

    // Healthy afterwards: the probe answers and an ordinary message still gets its reply.
    await (gateway.adapterFor("telegram") as TelegramAdapter).whenIdle();
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const normal = await fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        source: { platform: "telegram", chatId: "after", userId: "after" },
        text: "still here",
      }),
    });
    expect([normal.status, ((await normal.json()) as { reply: string }).reply]).toEqual([
      200,
      "echo: still here",
    ]);
  });
});
