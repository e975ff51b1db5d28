import dgram from "node:dgram";
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";

/** One attempt to reach the network that the guard blocked. */
export interface NetworkAttempt {
  /** The API that was called (`fetch`, `net.Socket.connect`, `http.request`, `dns.lookup`, ...). */
  readonly api: string;
}

/** What happened while the guard was up. */
export interface NetworkWatch<T> {
  /** The value `fn` returned, when it returned. */
  readonly value?: T;
  /** What `fn` threw, when it threw. */
  readonly error?: unknown;
  readonly threw: boolean;
  /** Blocked attempts, in call order (including ones started in the settle window after `fn`). */
  readonly attempts: readonly NetworkAttempt[];
}

/** The error a blocked network API throws at its caller. */
export class NetworkBlockedError extends Error {
  constructor(api: string) {
    super(`Network access through ${api} is blocked by the conformance kit`);
    this.name = "NetworkBlockedError";
  }
}

type Patch = { target: object; key: PropertyKey; api: string };

// Every path out of the process we know of. Socket.prototype.connect sits under net.connect,
// tls.connect, http(s) agents and undici (fetch), so it catches callers that captured `fetch` or
// `request` before the guard went up; the outer patches name the API in the report.
const PATCHES: readonly Patch[] = [
  { target: globalThis, key: "fetch", api: "fetch" },
  { target: net.Socket.prototype, key: "connect", api: "net.Socket.connect" },
  { target: http, key: "request", api: "http.request" },
  { target: http, key: "get", api: "http.get" },
  { target: https, key: "request", api: "https.request" },
  { target: https, key: "get", api: "https.get" },
  { target: dns, key: "lookup", api: "dns.lookup" },
  { target: dns, key: "resolve", api: "dns.resolve" },
  { target: dns.promises, key: "lookup", api: "dns.promises.lookup" },
  { target: dgram.Socket.prototype, key: "send", api: "dgram.Socket.send" },
];

let active = false;

/**
 * Runs `fn` with every network API replaced by one that records the attempt and throws
 * {@link NetworkBlockedError}, then keeps the guard up for `settleMs` more so that work `fn` started
 * in the background (a promise, a timer) is caught too (default 50 ms; attempts that start later are
 * missed). Built-in ES-module named exports are synced
 * both ways, so `import { request } from "node:http"` is covered. Not reentrant: guarded calls must
 * not overlap (Vitest runs the tests of one file one at a time).
 */
export async function watchNetwork<T>(
  fn: () => T,
  props: { settleMs?: number } = {},
): Promise<NetworkWatch<T>> {
  if (active) throw new Error("watchNetwork is already active; guarded calls must not overlap");
  active = true;
  const attempts: NetworkAttempt[] = [];
  const originals = PATCHES.map((patch) => ({
    patch,
    had: Object.hasOwn(patch.target, patch.key),
    value: (patch.target as Record<PropertyKey, unknown>)[patch.key],
  }));
  for (const { patch } of originals) {
    (patch.target as Record<PropertyKey, unknown>)[patch.key] = function blocked(): unknown {
      attempts.push({ api: patch.api });
      const error = new NetworkBlockedError(patch.api);
      // fetch reports failures by rejecting, never by throwing; keep that so callers behave as usual.
      if (patch.api === "fetch") return Promise.reject(error);
      throw error;
    };
  }
  syncBuiltinESMExports();
  try {
    let result: NetworkWatch<T>;
    try {
      result = { value: fn(), threw: false, attempts };
    } catch (error) {
      result = { error, threw: true, attempts };
    }
    await new Promise((resolve) => setTimeout(resolve, props.settleMs ?? 50));
    await new Promise((resolve) => setImmediate(resolve));
    return result;
  } finally {
    for (const { patch, had, value } of originals) {
      if (had) (patch.target as Record<PropertyKey, unknown>)[patch.key] = value;
      else delete (patch.target as Record<PropertyKey, unknown>)[patch.key];
    }
    syncBuiltinESMExports();
    active = false;
  }
}
