import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { EngramError } from "@engram/core";
import type { FastifyReply, FastifyRequest } from "fastify";

export const AUTH_COOKIE = "engram_auth";
export const CSRF_COOKIE = "engram_csrf";
export const CSRF_HEADER = "x-csrf-token";

/**
 * Cookies of a request (no library needed for reading `name=value; ...`). A cookie whose value does
 * not decode (`x=%zz`) counts as absent: any page on the same host can set such a cookie, and it must
 * not break every request of the browser that holds it.
 */
export function readCookies(request: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const value = decodeCookieValue(part.slice(eq + 1).trim());
    if (value !== undefined) out.set(part.slice(0, eq).trim(), value);
  }
  return out;
}

function decodeCookieValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Login and CSRF for the web API. Login is required when a token is configured (always when the server
 * is not bound to loopback): the httpOnly cookie holds a digest of the token, never the token. Every
 * state-changing request must echo the readable `engram_csrf` cookie in `x-csrf-token` (double submit),
 * so another site's form or script cannot act for the logged-in browser.
 */
export class WebAuth {
  readonly #cookieValue: string | undefined;
  readonly #secure: boolean;

  constructor(props: { readonly token?: string | undefined; readonly secureCookies?: boolean }) {
    this.#cookieValue = props.token
      ? createHash("sha256").update(`engram-web:${props.token}`).digest("hex")
      : undefined;
    this.#secure = props.secureCookies ?? false;
  }

  get required(): boolean {
    return this.#cookieValue !== undefined;
  }

  isAuthenticated(request: FastifyRequest): boolean {
    if (!this.#cookieValue) return true;
    const given = readCookies(request).get(AUTH_COOKIE);
    return given !== undefined && sameText(given, this.#cookieValue);
  }

  /** @throws UNAUTHORIZED on a wrong token. */
  login(token: unknown, reply: FastifyReply): void {
    if (!this.#cookieValue) return;
    const digest =
      typeof token === "string" ? createHash("sha256").update(`engram-web:${token}`).digest("hex") : "";
    if (!sameText(digest, this.#cookieValue)) throw new EngramError("UNAUTHORIZED", "Wrong token");
    reply.header("set-cookie", this.#cookie(AUTH_COOKIE, this.#cookieValue, true));
  }

  /** Issues the CSRF cookie when the browser has none yet. */
  ensureCsrfCookie(request: FastifyRequest, reply: FastifyReply): void {
    if (readCookies(request).has(CSRF_COOKIE)) return;
    reply.header("set-cookie", this.#cookie(CSRF_COOKIE, randomBytes(18).toString("base64url"), false));
  }

  /** @throws FORBIDDEN unless the header echoes the cookie. */
  checkCsrf(request: FastifyRequest): void {
    const cookie = readCookies(request).get(CSRF_COOKIE);
    const header = request.headers[CSRF_HEADER];
    if (!cookie || typeof header !== "string" || !sameText(cookie, header)) {
      throw new EngramError("FORBIDDEN", `Missing or wrong ${CSRF_HEADER} header (CSRF protection)`);
    }
  }

  #cookie(name: string, value: string, httpOnly: boolean): string {
    return [
      `${name}=${encodeURIComponent(value)}`,
      "Path=/",
      "SameSite=Lax",
      ...(httpOnly ? ["HttpOnly"] : []),
      ...(this.#secure ? ["Secure"] : []),
    ].join("; ");
  }
}
