// @vitest-environment happy-dom
// The API client over real HTTP: a loopback server answers the shapes the UI meets (our error body, a
// proxy's bare 502, no server at all), and the client maps each to a code a person's message is made of.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connection } from "../state/connection.js";
import { ApiError, api, describeFailure, SERVER_UNREACHABLE } from "./client.js";

let server: Server;
let origin: string;
const seen: { method: string; url: string; csrf: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      csrf: req.headers["x-csrf-token"] as string | undefined,
    });
    if (req.url === "/api/ok")
      return res.writeHead(200, { "content-type": "application/json" }).end('{"value":1}');
    if (req.url === "/api/empty") return res.writeHead(204).end();
    if (req.url === "/api/missing")
      return res
        .writeHead(404, { "content-type": "application/json" })
        .end('{"error":{"code":"SESSION_NOT_FOUND","message":"No web session x"}}');
    if (req.url === "/api/proxy") return res.writeHead(502).end("Bad Gateway");
    return res.writeHead(500).end("not json");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${origin}/`);
  document.cookie = "engram_csrf=tok%2B1";
  connection.markUp();
  seen.length = 0;
});

describe("the API client", () => {
  it("returns the JSON body, and undefined for 204", async () => {
    expect(await api("GET", "/api/ok")).toEqual({ value: 1 });
    expect(await api("DELETE", "/api/empty")).toBeUndefined();
  });

  it("sends the CSRF cookie's value on state changes only", async () => {
    await api("GET", "/api/ok");
    await api("POST", "/api/ok", { a: 1 });
    expect(seen.map((r) => r.csrf)).toEqual([undefined, "tok+1"]);
  });

  it("keeps the server's error code and message", async () => {
    const error = await api("GET", "/api/missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "SESSION_NOT_FOUND" });
    expect(describeFailure(error).kind).toBe("not-found");
  });

  it("treats a proxy's bare 502 as the server being unreachable, and a bare 500 as an HTTP error", async () => {
    expect(await api("GET", "/api/proxy").catch((e: unknown) => e)).toMatchObject({
      code: SERVER_UNREACHABLE,
    });
    expect(await api("GET", "/api/other").catch((e: unknown) => e)).toMatchObject({
      status: 500,
      code: "HTTP_ERROR",
    });
  });

  it("turns 'no answer at all' into SERVER_UNREACHABLE and marks the connection down until the next answer", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await api("GET", `http://127.0.0.1:${port}/api/ok`).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: SERVER_UNREACHABLE });
    expect((error as Error).message).not.toMatch(/failed to fetch/i);
    expect(connection.isDown()).toBe(true);
    expect(describeFailure(error)).toMatchObject({ kind: "server-unreachable" });
    await api("GET", "/api/ok");
    expect(connection.isDown()).toBe(false);
  });
});

describe("describing a failure", () => {
  it("classes model failures by their HTTP status and says what to set", () => {
    const model = (status?: number, message = "Call to model failed") =>
      describeFailure({ code: "MODEL_FAILED", message, details: status === undefined ? {} : { status } });
    expect(model(401)).toMatchObject({
      kind: "model-auth",
      hint: expect.stringContaining("ENGRAM_MODEL_API_KEY"),
    });
    expect(model(429).kind).toBe("model-rate-limit");
    expect(model(404).hint).toContain("ENGRAM_MODEL");
    expect(model(undefined, "connect ECONNREFUSED 127.0.0.1:1")).toMatchObject({
      kind: "model-unreachable",
      hint: expect.stringContaining("ENGRAM_MODEL_BASE_URL"),
    });
    expect(model(500).kind).toBe("model-error");
    expect(model(400)).toMatchObject({
      kind: "model-rejected",
      hint: expect.stringContaining("ENGRAM_MODEL"),
    });
    expect(model(undefined, "The turn stopped: model_error")).toMatchObject({
      kind: "model-failed",
      hint: expect.stringContaining("ENGRAM_MODEL_API_KEY"),
    });
  });

  it("reads a turn stopped by a model error from the stream's error event", () => {
    const stopped = {
      code: "CONFLICT",
      message: "The turn stopped: model_error",
      details: { stopReason: "model_error" },
    };
    expect(describeFailure(stopped).kind).toMatch(/^model-/);
    expect(describeFailure({ code: "CONFLICT", message: "The turn was cancelled" }).kind).toBe("cancelled");
    expect(describeFailure({ code: "STREAM_ACTIVE", message: "busy" }).kind).toBe("busy");
  });
});
