import { EchoTurnRunner } from "@engram/sessions";
import { createDatabase, type Database } from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";
import { manualClock } from "../test-support/manual-clock.js";

/** Echo turns that a test can hold open (`hold`). */
class HoldingRunner extends EchoTurnRunner {}

const TOKEN = "test-token-0123456789";
const source = { platform: "telegram", chatId: "42", chatType: "dm", userId: "42" };

describeEachBackend("gateway over HTTP", (db) => {
  let gateway: Gateway;
  let base: string;
  let runner: HoldingRunner;
  const clock = manualClock(Date.UTC(2026, 0, 10, 12));

  beforeEach(async () => {
    clock.set(Date.UTC(2026, 0, 10, 12));
    const config = parseGatewayConfig({ token: TOKEN, resetPolicy: { mode: "idle", idleMinutes: 60 } });
    runner = new HoldingRunner();
    gateway = createGateway({ config, db: db(), clock, runner });
    await gateway.server.listen({ host: "127.0.0.1", port: 0 });
    const address = gateway.server.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    base = `http://127.0.0.1:${address.port}`;
  });

  afterEach(async () => {
    await gateway.close({ drainDeadlineMs: 5000 });
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("answers a message, persists both sides and reuses the session", async () => {
    const first = await post({ source, text: "hello", messageId: "m1" });
    expect(first.status).toBe(200);
    const reply = (await first.json()) as { sessionId: string; sessionKey: string; reply: string };
    expect(reply).toMatchObject({ sessionKey: "agent:main:telegram:dm:42", reply: "echo: hello" });
    const second = (await (await post({ source, text: "again" })).json()) as { sessionId: string };
    expect(second.sessionId).toBe(reply.sessionId);
    const messages = await gateway.transcripts.getMessages(reply.sessionId);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "hello"],
      ["assistant", "echo: hello"],
      ["user", "again"],
      ["assistant", "echo: again"],
    ]);
    expect(await gateway.coordinator.hasUncommittedWork(reply.sessionId)).toBe(true);
  });

  it("serialises concurrent requests of one chat and ignores repeated message ids", async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post({ source, text: `m${i % 5}`, messageId: `p${i % 5}` })),
    );
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{
      sessionId: string;
      reply: string | null;
      duplicate?: boolean;
    }>;
    expect(new Set(bodies.map((b) => b.sessionId)).size).toBe(1);
    expect(bodies.filter((b) => b.duplicate)).toHaveLength(5);
    const messages = await gateway.transcripts.getMessages(bodies[0]!.sessionId);
    expect(messages).toHaveLength(10);
    for (let i = 0; i < 10; i += 2) {
      expect(messages[i]!.role).toBe("user");
      expect(messages[i + 1]!.content).toBe(`echo: ${messages[i]!.content}`);
    }
  });

  it("reports an idle reset in the response and the metrics", async () => {
    const first = (await (await post({ source, text: "one" })).json()) as { sessionId: string };
    clock.advance(2 * 60 * 60_000);
    const second = (await (await post({ source, text: "two" })).json()) as {
      sessionId: string;
      autoReset?: unknown;
    };
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.autoReset).toEqual({ reason: "idle", hadActivity: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('engram_gateway_session_resets_total{reason="idle"} 1');
    expect(metrics).toContain('engram_gateway_turns_total{outcome="completed"} 2');
    expect(metrics).toContain('engram_gateway_routing_decisions_total{decision="auto_reset"} 1');
    expect(metrics).toContain('engram_gateway_memory_commits_total{result="ok"} 1');
    expect(metrics).toContain("engram_gateway_turn_queue_depth 0");
  });

  it("commits an expired session's memory in the expiry sweep, once", async () => {
    const first = (await (await post({ source, text: "one" })).json()) as {
      sessionId: string;
      sessionKey: string;
    };
    clock.advance(2 * 60 * 60_000);
    expect((await gateway.expiryWatcher.sweep()).finalized).toEqual([first.sessionKey]);
    expect(await gateway.coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
    expect((await gateway.routingIndex.get(first.sessionKey))?.expiryFinalized).toBe(true);
    expect((await gateway.expiryWatcher.sweep()).finalized).toEqual([]);
  });

  it("rejects requests without the bearer token with 401 and a code", async () => {
    const none = await post({ source, text: "x" }, { authorization: "" });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    const wrong = await post({ source, text: "x" }, { authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect(await gateway.routingIndex.count()).toBe(0);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it("answers malformed input with 4xx and error codes, writing nothing", async () => {
    const cases: Array<[unknown, number, string]> = [
      ["{not json", 400, "INVALID_ARGUMENT"],
      [[1, 2], 400, "INVALID_ARGUMENT"],
      [{ source, text: 5 }, 400, "INVALID_ARGUMENT"],
      [{ source: { ...source, chatId: "../../etc" }, text: "x" }, 400, "INVALID_ID"],
      [{ source: { ...source, threadId: "a/b" }, text: "x" }, 400, "INVALID_ID"],
      [{ source, text: "x".repeat(64 * 1024 + 1) }, 413, "CONTENT_TOO_LARGE"],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(await gateway.routingIndex.count()).toBe(0);
  });

  it("starts over on /reset and commits the session it leaves", async () => {
    const first = (await (await post({ source, text: "one" })).json()) as { sessionId: string };
    const reset = (await (await post({ source, text: "/reset" })).json()) as { sessionId: string };
    expect(reset.sessionId).not.toBe(first.sessionId);
    expect((await gateway.transcripts.getSession(first.sessionId))?.endReason).toBe("session_reset");
    expect(await gateway.coordinator.hasUncommittedWork(first.sessionId)).toBe(false);
  });

  it("marks a chat with a turn in progress resume-pending on a graceful stop", async () => {
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    runner.hold = () =>
      new Promise<void>((resolve) => {
        release = resolve;
        entered();
      });
    const inFlight = post({ source, text: "slow" });
    await inside;
    const closing = gateway.close({ drainDeadlineMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const response = await inFlight;
    const body = (await response.json()) as { reply: string };
    await closing;
    // The running request still completed: a stop never drops an accepted message.
    expect(body.reply).toBe("echo: slow");
    const entry = await gateway.routingIndex.get("agent:main:telegram:dm:42");
    expect(entry).toMatchObject({ resumePending: true, resumeReason: "gateway_shutdown" });
  });

  it("routes a burst of first messages sent to two gateways on one database to one session", async () => {
    // On Postgres the second gateway has its own connection pool, as a second process would.
    const context = db;
    const second: Database | undefined =
      context.backend.name === "postgres"
        ? await createDatabase({ url: context.backend.url, schema: context.database().schema })
        : undefined;
    const config = parseGatewayConfig({ token: TOKEN });
    const other = createGateway({ config, db: second?.db ?? db(), clock });
    await other.server.listen({ host: "127.0.0.1", port: 0 });
    try {
      const address = other.server.server.address();
      if (typeof address !== "object" || address === null) throw new Error("no address");
      const bases = [base, `http://127.0.0.1:${address.port}`];
      for (let round = 0; round < 3; round++) {
        const chat = { ...source, chatId: `burst${round}`, userId: `burst${round}` };
        const responses = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            fetch(`${bases[i % 2]}/v1/messages`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
              body: JSON.stringify({ source: chat, text: `m${i}` }),
            }).then((r) => r.json() as Promise<{ sessionId: string }>),
          ),
        );
        const ids = new Set(responses.map((r) => r.sessionId));
        expect(ids.size).toBe(1);
        const [sessionId] = [...ids];
        expect(await gateway.transcripts.countMessages(sessionId!)).toBe(16);
      }
    } finally {
      await other.close({ drainDeadlineMs: 5000 });
      await second?.close();
    }
  });
});
