/**
 * Regression (issue 13, item 3): `POST /v1/messages` passed NUL bytes (text, messageId), unpaired
 * surrogates (source.chatId, threadId) and out-of-range timestamps (1e308, 9007199254740993) to the
 * store, which refused them: 503 STORE_FAILED for what is the client's mistake.
 *
 * Fix: the body is validated with a schema at the route. Ids and names that cannot be stored are
 * refused (400 INVALID_ID / INVALID_ARGUMENT), timestamps must fall between 1970 and 9999, and the
 * message text keeps everything storable, each NUL or unpaired surrogate replaced by U+FFFD.
 */

import { EchoTurnRunner } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";

const TOKEN = "test-token-0123456789";
const source = { platform: "telegram", chatId: "42", chatType: "dm", userId: "42" };

describeEachBackend("gateway refuses hostile input with 4xx, never 5xx", (db) => {
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    const config = parseGatewayConfig({ token: TOKEN, expirySweepIntervalMs: 0 });
    gateway = createGateway({ config, db: db(), runner: new EchoTurnRunner() });
    base = (await gateway.listen({ host: "127.0.0.1", port: 0 })).address;
  });
  afterAll(async () => {
    await gateway?.close({ drainDeadlineMs: 5000 });
  });

  /** Posts a JSON text as written (so it can hold number literals JSON.stringify never writes). */
  const post = async (json: string) => {
    const response = await fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: json,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const codeOf = (body: Record<string, unknown>) => (body.error as { code?: string } | undefined)?.code;

  it("refuses unstorable ids, names and out-of-range timestamps with 400 and a code, storing nothing", async () => {
    const cases: Array<[string, string, string]> = [
      ["a NUL in messageId", JSON.stringify({ source, text: "x", messageId: "m\u0000" }), "INVALID_ID"],
      [
        "an unpaired surrogate in messageId",
        JSON.stringify({ source, text: "x", messageId: "m\ud800" }),
        "INVALID_ID",
      ],
      [
        "an unpaired surrogate in chatId",
        JSON.stringify({ source: { ...source, chatId: "\ud800" }, text: "x" }),
        "INVALID_ID",
      ],
      [
        "an unpaired surrogate in threadId",
        JSON.stringify({ source: { ...source, threadId: "t\udc00" }, text: "x" }),
        "INVALID_ID",
      ],
      [
        "a NUL in chatId",
        JSON.stringify({ source: { ...source, chatId: "4\u00002" }, text: "x" }),
        "INVALID_ID",
      ],
      [
        "a NUL in a chat name",
        JSON.stringify({ source: { ...source, chatName: "a\u0000" }, text: "x" }),
        "INVALID_ARGUMENT",
      ],
      ["timestamp 1e308", JSON.stringify({ source, text: "x", timestamp: 1e308 }), "INVALID_ARGUMENT"],
      [
        "timestamp 9007199254740993",
        `{"source":${JSON.stringify(source)},"text":"x","timestamp":9007199254740993}`,
        "INVALID_ARGUMENT",
      ],
      [
        "timestamp 1e999 (Infinity)",
        `{"source":${JSON.stringify(source)},"text":"x","timestamp":1e999}`,
        "INVALID_ARGUMENT",
      ],
      ["a negative timestamp", JSON.stringify({ source, text: "x", timestamp: -1 }), "INVALID_ARGUMENT"],
      [
        "a messageId past 2^53",
        `{"source":${JSON.stringify(source)},"text":"x","messageId":9007199254740993}`,
        "INVALID_ARGUMENT",
      ],
      ["text that is not a string", JSON.stringify({ source, text: ["x"] }), "INVALID_ARGUMENT"],
      [
        "a source that is not an object",
        JSON.stringify({ source: "telegram:42", text: "x" }),
        "INVALID_ARGUMENT",
      ],
    ];
    for (const [name, json, code] of cases) {
      const { status, body } = await post(json);
      expect([status, codeOf(body)], name).toEqual([400, code]);
    }
    expect(await gateway.routingIndex.count()).toBe(0);
  });

  it("keeps message text with a NUL or an unpaired surrogate, each replaced by U+FFFD", async () => {
    const nul = await post(JSON.stringify({ source, text: "before\u0000after", messageId: "m1" }));
    expect([nul.status, nul.body.reply]).toEqual([200, "echo: before\ufffdafter"]);
    const lone = await post(JSON.stringify({ source, text: "half \ud83d pair and \ude00", messageId: "m2" }));
    expect([lone.status, lone.body.reply]).toEqual([200, "echo: half \ufffd pair and \ufffd"]);
    const emoji = await post(
      JSON.stringify({ source, text: "whole \ud83d\ude00 pair", timestamp: Date.UTC(2026, 0, 1) }),
    );
    expect([emoji.status, emoji.body.reply]).toEqual([200, "echo: whole \u{1f600} pair"]);
    const messages = await gateway.transcripts.getMessages(nul.body.sessionId as string);
    expect(messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "before\ufffdafter",
      "half \ufffd pair and \ufffd",
      "whole \u{1f600} pair",
    ]);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it("answers a path the router cannot decode with 400 in the error shape", async () => {
    for (const path of ["/v1/%zz", "/%ED%A0%80/messages", "/v1/messages%"]) {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = (await response.json()) as Record<string, unknown>;
      expect([response.status, codeOf(body)], path).toEqual([400, "INVALID_ARGUMENT"]);
    }
  });
});
