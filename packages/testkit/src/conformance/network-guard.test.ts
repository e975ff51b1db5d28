import dns from "node:dns";
import http, { request as namedRequest } from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { NetworkBlockedError, watchNetwork } from "./network-guard.js";

describe("watchNetwork", () => {
  it("reports nothing for code that stays in the process", async () => {
    const watch = await watchNetwork(() => 21 * 2);
    expect(watch).toMatchObject({ value: 42, threw: false, attempts: [] });
  });

  it("blocks and reports fetch, http.request, sockets and DNS", async () => {
    const watch = await watchNetwork(() => {
      void fetch("http://127.0.0.1:9/").catch(() => {});
      for (const attempt of [
        () => http.request("http://127.0.0.1:9/"),
        () => net.connect({ host: "127.0.0.1", port: 9 }),
        () => dns.lookup("example.com", () => {}),
      ]) {
        expect(attempt).toThrow(NetworkBlockedError);
      }
      return true;
    });
    expect(watch.attempts.map((a) => a.api)).toEqual([
      "fetch",
      "http.request",
      "net.Socket.connect",
      "dns.lookup",
    ]);
  });

  it("covers named ES-module imports of node:http", async () => {
    const watch = await watchNetwork(() => {
      try {
        namedRequest("http://127.0.0.1:9/");
      } catch {}
    });
    expect(watch.attempts.map((a) => a.api)).toEqual(["http.request"]);
  });

  it("catches attempts started in the background after the call returned", async () => {
    const watch = await watchNetwork(() => {
      setTimeout(() => void fetch("http://127.0.0.1:9/").catch(() => {}), 1);
      return "queued";
    });
    expect(watch.attempts.map((a) => a.api)).toEqual(["fetch"]);
  });

  it("catches a fetch captured before the guard went up, at the socket it opens", async () => {
    const capturedFetch = globalThis.fetch;
    // Not port 9: fetch refuses "bad ports" before it opens a socket. The socket opens only after
    // undici has loaded, hence the long settle window.
    const watch = await watchNetwork(
      () => {
        void capturedFetch("http://127.0.0.1:54329/").catch(() => {});
      },
      { settleMs: 1_000 },
    );
    expect(watch.attempts.map((a) => a.api)).toContain("net.Socket.connect");
  });

  it("restores every API afterwards, also when the call throws", async () => {
    const before = [globalThis.fetch, net.Socket.prototype.connect, http.request, dns.lookup];
    const watch = await watchNetwork(() => {
      throw new Error("boom");
    });
    expect(watch.threw).toBe(true);
    expect([globalThis.fetch, net.Socket.prototype.connect, http.request, dns.lookup]).toEqual(before);
    expect(namedRequest).toBe(http.request);
  });

  it("refuses to nest", async () => {
    let inner: Promise<string> | undefined;
    await watchNetwork(() => {
      inner = watchNetwork(() => 1).then(
        () => "ran",
        (error: Error) => error.message,
      );
    });
    expect(await inner).toMatch(/already active/);
  });
});
