// A server that accepts connections and never answers must not hold any hook past its bound.
import { createServer, type Server, type Socket } from "node:net";
import { isEngramError } from "@engram/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHindsightConfig } from "../config/hindsight-config.js";
import { initContext, turn } from "../test-support/provider-behaviour.js";
import { HindsightProvider } from "./hindsight-provider.js";

const REQUEST_MS = 150;
const RETAIN_WAIT_MS = 150;
const SHUTDOWN_MS = 200;
// Scheduling slack on a shared 2-core machine.
const SLACK_MS = 1000;

let server: Server;
let url = "";
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.resume(); // read and ignore: never a byte back
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function timed<T>(
  work: () => T | Promise<T>,
): Promise<{ ms: number; value: T | undefined; error: unknown }> {
  const start = performance.now();
  try {
    const value = await work();
    return { ms: performance.now() - start, value, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, value: undefined, error };
  }
}

describe("HindsightProvider against a server that never answers", () => {
  it("bounds every hook by its timeout", async () => {
    const provider = new HindsightProvider({
      config: parseHindsightConfig({
        mode: "external",
        baseUrl: url,
        timeouts: {
          requestMs: REQUEST_MS,
          retainWaitMs: RETAIN_WAIT_MS,
          shutdownMs: SHUTDOWN_MS,
          pollIntervalMs: 20,
        },
      }),
    });
    const ctx = { sessionId: "hung-1" };
    expect((await timed(() => provider.initialize(initContext("hung-1")))).ms).toBeLessThan(SLACK_MS);
    expect((await timed(() => provider.syncTurn(turn("hello there", "hi"), ctx))).ms).toBeLessThan(SLACK_MS);
    expect((await timed(() => provider.queuePrefetch("hello", ctx))).ms).toBeLessThan(SLACK_MS);

    const prefetch = await timed(() => provider.prefetch("hello", ctx));
    expect(prefetch.value).toBe("");
    expect(prefetch.ms).toBeLessThan(RETAIN_WAIT_MS + REQUEST_MS + SLACK_MS);

    // Recall failures never break a turn: a second prefetch without a queued one is bounded too.
    const direct = await timed(() => provider.prefetch("again", ctx));
    expect(direct.value).toBe("");
    expect(direct.ms).toBeLessThan(RETAIN_WAIT_MS + REQUEST_MS + SLACK_MS);

    for (const [tool, args] of [
      ["hindsight_retain", { content: "x" }],
      ["hindsight_recall", { query: "x" }],
      ["hindsight_reflect", { query: "x" }],
    ] as const) {
      const call = await timed(() => provider.handleToolCall(tool, { ...args }));
      expect(isEngramError(call.error) && call.error.code).toBe("PROVIDER_TIMEOUT");
      expect(call.ms).toBeLessThan(REQUEST_MS + SLACK_MS);
    }

    expect(
      (
        await timed(() =>
          provider.onSessionSwitch("hung-2", {
            parentSessionId: "hung-1",
            reset: true,
            rewound: false,
            reason: "reset",
          }),
        )
      ).ms,
    ).toBeLessThan(SLACK_MS);
    provider.syncTurn(turn("more", "words"), { sessionId: "hung-2" });
    expect((await timed(() => provider.onSessionEnd())).ms).toBeLessThan(SLACK_MS);

    const shutdown = await timed(() => provider.shutdown());
    expect(shutdown.error).toBeUndefined();
    expect(shutdown.ms).toBeLessThan(SHUTDOWN_MS + SLACK_MS);
  });
});
