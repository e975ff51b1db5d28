import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  startTelegramBotApiServer,
  type TelegramBotApiServerHandle,
} from "./start-telegram-bot-api-server.js";

describe("stand-in Telegram Bot API server", () => {
  let api: TelegramBotApiServerHandle;
  beforeAll(async () => {
    api = await startTelegramBotApiServer({ botUsername: "kit_bot" });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => api.reset());

  const call = async (method: string, body: unknown, token = api.token) => {
    const response = await fetch(`${api.baseUrl}/bot${token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("answers getMe and sendMessage like the real API and records the message", async () => {
    expect(await call("getMe", {})).toMatchObject({
      status: 200,
      body: { ok: true, result: { username: "kit_bot" } },
    });
    const sent = await call("sendMessage", { chat_id: "-100777", text: "hi", message_thread_id: 12 });
    expect(sent).toMatchObject({
      status: 200,
      body: {
        ok: true,
        result: { message_id: 1001, chat: { id: -100_777 }, text: "hi", message_thread_id: 12 },
      },
    });
    expect(api.sentMessages).toEqual([
      { chatId: -100_777, text: "hi", messageThreadId: 12, messageId: 1001 },
    ]);
  });

  it("takes form-encoded parameters too", async () => {
    const response = await fetch(`${api.baseUrl}/bot${api.token}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: "5", text: "form" }).toString(),
    });
    expect(response.status).toBe(200);
    expect(api.sentMessages).toEqual([{ chatId: 5, text: "form", messageId: 1001 }]);
  });

  it("refuses a wrong token, an unknown method, an empty or too long text, as ok:false with the status", async () => {
    const cases: Array<[Promise<{ status: number; body: Record<string, unknown> }>, number]> = [
      [call("getMe", {}, "1:wrong"), 401],
      [call("sendSticker", { chat_id: 1 }), 404],
      [call("sendMessage", { chat_id: 1, text: " " }), 400],
      [call("sendMessage", { chat_id: 1, text: "x".repeat(4097) }), 400],
      [call("sendMessage", { text: "no chat" }), 400],
    ];
    for (const [answer, status] of cases) {
      const { status: got, body } = await answer;
      expect(got).toBe(status);
      expect(body).toMatchObject({ ok: false, error_code: status });
    }
    expect(api.sentMessages).toEqual([]);
    expect(api.calls).toHaveLength(5);
  });

  it("fails the next calls as scripted, per method, then answers again", async () => {
    api.failNext(2, { status: 429, retryAfterSeconds: 3 }, { method: "sendMessage" });
    api.failNext(1, { status: 500 });
    expect((await call("getMe", {})).status).toBe(500);
    const throttled = await call("sendMessage", { chat_id: 1, text: "a" });
    expect(throttled).toMatchObject({ status: 429, body: { ok: false, parameters: { retry_after: 3 } } });
    expect((await call("sendMessage", { chat_id: 1, text: "b" })).status).toBe(429);
    expect((await call("sendMessage", { chat_id: 1, text: "c" })).status).toBe(200);
    expect(api.sentMessages.map((m) => m.text)).toEqual(["c"]);
  });

  it("waits for sent messages and times out with the count it got", async () => {
    const waiting = api.waitForSentMessages(2, 2000);
    await call("sendMessage", { chat_id: 1, text: "one" });
    await call("sendMessage", { chat_id: 1, text: "two" });
    expect((await waiting).map((m) => m.text)).toEqual(["one", "two"]);
    await expect(api.waitForSentMessages(3, 50)).rejects.toThrow(/got 2/);
  });
});
