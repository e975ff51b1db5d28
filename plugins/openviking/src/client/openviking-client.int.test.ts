import http from "node:http";
import type { AddressInfo } from "node:net";
import { type OpenVikingServerHandle, startOpenVikingServer } from "@engram/testkit/openviking-server";
import { afterEach, describe, expect, it } from "vitest";
import { OpenVikingClient } from "./openviking-client.js";
import { OpenVikingError } from "./openviking-error.js";

/** A raw loopback server with a scripted handler, for failure modes the stand-in never produces. */
async function rawServer(
  handler: http.RequestListener,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function failure(work: Promise<unknown>): Promise<OpenVikingError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenVikingError);
  return error as OpenVikingError;
}

describe("OpenVikingClient", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const standIn = async (
    props: Parameters<typeof startOpenVikingServer>[0] = {},
  ): Promise<OpenVikingServerHandle> => {
    const server = await startOpenVikingServer(props);
    cleanups.push(() => server.close());
    return server;
  };

  it("tells a modern /health from a legacy one", async () => {
    const modern = await standIn();
    expect(await new OpenVikingClient({ baseUrl: modern.url }).health()).toMatchObject({
      kind: "modern",
      healthy: true,
    });
    const legacy = await standIn({ legacyHealth: true });
    expect(await new OpenVikingClient({ baseUrl: legacy.url }).health()).toEqual({
      kind: "legacy",
      healthy: true,
    });
  });

  it("sends the API key as X-API-Key and as a Bearer token and unwraps the result", async () => {
    const server = await standIn({ apiKey: "k1" });
    const client = new OpenVikingClient({ baseUrl: server.url, apiKey: "k1" });
    const created = await client.post<{ session_id: string }>("/api/v1/sessions", { session_id: "c-1" });
    expect(created.session_id).toBe("c-1");
    const sent = server.requests.at(-1)?.headers;
    expect(sent?.["x-api-key"]).toBe("k1");
    expect(sent?.authorization).toBe("Bearer k1");
  });

  it("maps the error envelope to typed errors with Engram codes and keeps the remote code", async () => {
    const server = await standIn({ apiKey: "k1" });
    const unauthenticated = await failure(
      new OpenVikingClient({ baseUrl: server.url }).get("/api/v1/sessions/x"),
    );
    expect(unauthenticated.code).toBe("UNAUTHORIZED");
    expect(unauthenticated.remote).toMatchObject({ remoteCode: "UNAUTHENTICATED", httpStatus: 401 });
    const client = new OpenVikingClient({ baseUrl: server.url, apiKey: "k1" });
    const missing = await failure(client.get("/api/v1/sessions/nope"));
    expect(missing.code).toBe("NOT_FOUND");
    const invalid = await failure(client.post("/api/v1/sessions/x/messages", { role: "user" }));
    expect(invalid.code).toBe("INVALID_ARGUMENT");
    expect(invalid.remote.remoteCode).toBe("INVALID_ARGUMENT");
  });

  it("bounds a hung request by its timeout and reports PROVIDER_TIMEOUT", async () => {
    const hung = await rawServer(() => {});
    cleanups.push(hung.close);
    const client = new OpenVikingClient({ baseUrl: hung.url, timeoutMs: 150, retries: 0 });
    const started = performance.now();
    const error = await failure(client.get("/api/v1/tasks/x"));
    expect(error.code).toBe("PROVIDER_TIMEOUT");
    expect(error.remote.remoteCode).toBe("TIMEOUT");
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("retries safe requests on 503 a bounded number of times and never retries a POST", async () => {
    const flaky = await rawServer((_req, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "error", error: { code: "UNAVAILABLE", message: "busy" } }));
    });
    cleanups.push(flaky.close);
    const client = new OpenVikingClient({ baseUrl: flaky.url, retries: 2, retryDelayMs: 5 });
    const error = await failure(client.get("/api/v1/tasks/x"));
    expect(error.code).toBe("PROVIDER_FAILED");
    expect(error.retryable).toBe(true);
    expect(flaky.hits()).toBe(3);
    await failure(client.post("/api/v1/sessions/x/commit", {}));
    expect(flaky.hits()).toBe(4);
  });

  it("recovers when a retry succeeds", async () => {
    let calls = 0;
    const server = await rawServer((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 502 : 200, { "content-type": "application/json" });
      res.end(
        calls === 1 ? "<html>bad gateway</html>" : JSON.stringify({ status: "ok", result: { ok: true } }),
      );
    });
    cleanups.push(server.close);
    const client = new OpenVikingClient({ baseUrl: server.url, retries: 1, retryDelayMs: 5 });
    expect(await client.get("/api/v1/anything")).toEqual({ ok: true });
  });

  it("refuses a base URL that is not http(s)", () => {
    expect(() => new OpenVikingClient({ baseUrl: "ftp://x" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
