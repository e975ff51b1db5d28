import fc from "fast-check";
import { codedErrorProblem } from "./coded-error.js";
import {
  encodeComponent,
  HOSTILE_NUMBER_LITERALS,
  HOSTILE_RAW_BODIES,
  hostileComponent,
  hostileJsonValue,
  RAW_PERCENT_ESCAPES,
} from "./hostile-values.js";
import { fillRouteParams, pathSpellings } from "./path-spellings.js";
import { type RawHttpResponse, rawHttpRequest } from "./raw-http-request.js";

/** A route of the server under test, as its route table lists it. */
export interface FuzzRoute {
  readonly method: string;
  /** The pattern, `:name` parameters included (`/api/session/:id`). */
  readonly url: string;
}

/** A well-formed request of a route, the starting point of its mutations. */
export interface FuzzExample {
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string>>;
}

export interface FuzzHttpRoutesProps {
  /** `http://127.0.0.1:<port>` of the server under test. */
  readonly baseUrl: string;
  /** Every route to fuzz: pass the server's own route table, so a new route is fuzzed too. */
  readonly routes: readonly FuzzRoute[];
  /** Good values of path parameters by name (real ids, so requests get past the lookups); hostile ones are added. */
  readonly params?: Readonly<Record<string, readonly string[]>>;
  /** A well-formed request per route, keyed `"METHOD /pattern"`; routes without one get random bodies. */
  readonly examples?: Readonly<Record<string, FuzzExample>>;
  /** Header sets to send, e.g. valid credentials, wrong ones and none; one is picked per request. */
  readonly credentials: readonly Readonly<Record<string, string>>[];
  /** Requests to generate (default 1000); a failure's shrinking sends more. */
  readonly numRuns?: number;
  readonly seed?: number;
  /** Longest wait for one response head, in ms (default 10000). */
  readonly timeoutMs?: number;
}

/** One generated request. */
export interface FuzzRequest {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface FuzzHttpRoutesResult {
  /** Requests sent (shrinking included). */
  readonly requests: number;
  /** Answers with a 5xx status (the run fails at the first one, so 0 when it returns). */
  readonly serverErrors: number;
  /** How many answers had each status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Routes that got at least one request. */
  readonly routesHit: number;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/JSON",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "*/*",
  "",
] as const;
const COOKIE_SPOILERS = [
  "x=%zz",
  "engram_auth=%",
  "engram_csrf=%ED%A0%80",
  "engram_auth",
  "=;=;;",
  "engram_auth=%00; engram_csrf=%00",
  `engram_auth=${"%41".repeat(500)}`,
  "a=b; ".repeat(200),
  "engram_csrf=\xff\xfe",
] as const;
const HEADER_SPOILERS: readonly Readonly<Record<string, string>>[] = [
  { authorization: "Bearer" },
  { authorization: "Bearer " },
  { authorization: "bearer x" },
  { authorization: "Basic dXNlcjpwYXNz" },
  { authorization: `Bearer ${"x".repeat(4000)}` },
  { authorization: "Bearer \xff\xfe" },
  { "x-csrf-token": "" },
  { "x-csrf-token": "%00" },
  { "x-csrf-token": "\xff" },
  { "x-telegram-bot-api-secret-token": "" },
  { "x-telegram-bot-api-secret-token": "\xff\xfe" },
  { accept: "\xff" },
  { "accept-version": "1.x" },
  { "x-forwarded-for": "\xff" },
  { "transfer-encoding": "chunked" },
];
const PARAM_VALUES = [...RAW_PERCENT_ESCAPES, "x".repeat(150), "..", "."];

/** The leaf paths of a JSON value (object keys and array indexes), the value itself as `[]`. */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((item, i) => leafPaths(item, [...prefix, i]))];
  if (typeof value === "object" && value !== null) {
    return [prefix, ...Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...prefix, key]))];
  }
  return [prefix];
}

type Mutation = "replace" | "delete" | "inject" | "add" | "big number";
const BIG = "__fuzz_big_number__";

/** `example` with the value at one leaf path changed by `mutation`, serialised as JSON text. */
function mutate(example: unknown, pick: number, mutation: Mutation, value: unknown, literal: string): string {
  const paths = leafPaths(example);
  const path = paths[pick % paths.length] ?? [];
  const copy: unknown = structuredClone(example);
  const apply = (next: (current: unknown) => unknown, remove = false): unknown => {
    if (path.length === 0) return next(copy);
    let parent = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path.at(-1) as string | number;
    if (remove && !Array.isArray(parent)) delete parent[last];
    else parent[last] = next(parent[last]);
    return copy;
  };
  let result: unknown;
  switch (mutation) {
    case "replace":
      result = apply(() => value);
      break;
    case "delete":
      result = apply(() => undefined, true);
      break;
    case "inject":
      // Keeps the rest of a string field valid, so the bad code unit reaches the deeper checks.
      result = apply((current) =>
        typeof current === "string" ? `${current}${String(value).slice(0, 16)}\u0000\ud800` : value,
      );
      break;
    case "add":
      result =
        typeof copy === "object" && copy !== null && !Array.isArray(copy)
          ? { ...(copy as object), [String(value).slice(0, 40) || "extra"]: value }
          : value;
      break;
    case "big number":
      result = apply(() => BIG);
      break;
  }
  const text = JSON.stringify(result) ?? "null";
  return text.replaceAll(`"${BIG}"`, literal);
}

function queryString(entries: readonly (readonly [string, string])[]): string {
  return entries.length === 0 ? "" : `?${entries.map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join("&")}`;
}

function requestArbitrary(props: FuzzHttpRoutesProps): fc.Arbitrary<FuzzRequest> {
  const routes = props.routes.length > 0 ? props.routes : [{ method: "GET", url: "/" }];
  const examples = props.examples ?? {};
  // A route with a well-formed example has fields to reach: it gets more of the requests.
  const routeArb = fc.oneof(
    ...routes.map((route) => ({
      weight: examples[`${route.method} ${route.url}`] ? 4 : 1,
      arbitrary: fc.constant(route),
    })),
  );
  return routeArb.chain((route) => {
    const key = `${route.method} ${route.url}`;
    const example = examples[key] ?? {};
    const names = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
    const paramArb = (name: string) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...(props.params?.[name] ?? ["x"]).map(encodeComponent)) },
        { weight: 1, arbitrary: fc.constantFrom(...PARAM_VALUES) },
        { weight: 1, arbitrary: hostileComponent().filter((v) => v.length < 2000) },
      );
    const pathArb = fc
      .tuple(...names.map(paramArb))
      .map((values) => fillRouteParams(route.url, (name) => values[names.indexOf(name)] ?? "x"))
      .chain((path) =>
        fc.oneof(
          { weight: 8, arbitrary: fc.constant(path) },
          { weight: 2, arbitrary: fc.constantFrom(...pathSpellings(path).map((s) => s.path)) },
          {
            weight: 1,
            arbitrary: hostileComponent()
              .filter((v) => v.length < 2000)
              .map((v) => `/${v}`),
          },
        ),
      );
    const exampleQuery = Object.entries(example.query ?? {});
    const queryArb = fc.oneof(
      { weight: 2, arbitrary: fc.constant(exampleQuery.map(([k, v]) => [k, encodeComponent(v)] as const)) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            fc.nat(),
            hostileComponent().filter((v) => v.length < 2000),
          )
          .map(([pick, bad]) =>
            exampleQuery.length === 0
              ? [["q", bad] as const]
              : exampleQuery.map(
                  ([k, v], i) => [k, i === pick % exampleQuery.length ? bad : encodeComponent(v)] as const,
                ),
          ),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(
            fc.tuple(
              fc.oneof(
                fc.constantFrom(...exampleQuery.map(([k]) => k), "__proto__", "constructor", "q", ""),
                hostileComponent(),
              ),
              hostileComponent(),
            ),
            { maxLength: 4 },
          )
          .map((entries) => entries.filter(([k, v]) => k.length + v.length < 2000)),
      },
      { weight: 1, arbitrary: fc.constant([] as (readonly [string, string])[]) },
    );
    const bodyArb: fc.Arbitrary<string | undefined> = fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      {
        weight: 2,
        arbitrary: fc.constant(example.body === undefined ? undefined : JSON.stringify(example.body)),
      },
      {
        weight: 6,
        arbitrary: fc
          .tuple(
            fc.nat(),
            fc.constantFrom<Mutation>(
              "replace",
              "replace",
              "inject",
              "inject",
              "delete",
              "add",
              "big number",
            ),
            hostileJsonValue(),
            fc.constantFrom(...HOSTILE_NUMBER_LITERALS),
          )
          .map(([pick, mutation, value, literal]) =>
            mutate(example.body ?? {}, pick, mutation, value, literal),
          ),
      },
      { weight: 1, arbitrary: hostileJsonValue().map((value) => JSON.stringify(value) ?? "null") },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_RAW_BODIES) },
    );
    const headersArb = fc
      .tuple(
        fc.constantFrom(...props.credentials),
        fc.option(fc.constantFrom(...COOKIE_SPOILERS), { freq: 4 }),
        fc.option(fc.constantFrom(...HEADER_SPOILERS), { freq: 6 }),
        fc.oneof(
          { weight: 6, arbitrary: fc.constant("application/json") },
          { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        ),
      )
      .map(([credentials, cookie, spoiler, contentType]) => {
        const headers: Record<string, string> = { ...credentials, ...spoiler };
        if (cookie !== null) headers.cookie = headers.cookie ? `${headers.cookie}; ${cookie}` : cookie;
        if (contentType !== "") headers["content-type"] = contentType;
        if (headers["transfer-encoding"]) delete headers["transfer-encoding"];
        return headers;
      });
    const methodArb = fc.oneof(
      { weight: 12, arbitrary: fc.constant(route.method) },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
    );
    return fc
      .record({ method: methodArb, path: pathArb, query: queryArb, headers: headersArb, body: bodyArb })
      .map(({ method, path, query, headers, body }): FuzzRequest => {
        const withBody = body !== undefined && method !== "GET" && method !== "HEAD";
        const sent: Record<string, string> = { ...headers };
        if (!withBody) delete sent["content-type"];
        return {
          route: key,
          method,
          path: `${path}${path.includes("?") ? "" : queryString(query)}`,
          headers: sent,
          ...(withBody ? { body } : {}),
        };
      });
  });
}

/**
 * Sends `numRuns` generated requests to a live server, over every route of its table: the route's own
 * method (and now and then another), good and hostile path parameters in many spellings, queries and
 * JSON bodies mutated from a well-formed example (each field replaced, removed, given a NUL or an
 * unpaired surrogate, a number past its range), malformed bodies and content types, with and without
 * credentials, with undecodable cookies and odd headers. Every answer must be below 500, and every
 * 4xx a JSON `{ error: { code, message } }` with a catalog code of that status.
 *
 * @throws the shrunk counterexample (fast-check's report) at the first answer that breaks the rule.
 */
export async function fuzzHttpRoutes(props: FuzzHttpRoutesProps): Promise<FuzzHttpRoutesResult> {
  let requests = 0;
  let serverErrors = 0;
  const statuses: Record<string, number> = {};
  const hit = new Set<string>();
  await fc.assert(
    fc.asyncProperty(requestArbitrary(props), async (request) => {
      requests++;
      hit.add(request.route);
      let response: RawHttpResponse;
      try {
        response = await rawHttpRequest(props.baseUrl, {
          method: request.method,
          path: request.path,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
          timeoutMs: props.timeoutMs ?? 10_000,
        });
      } catch (error) {
        throw new Error(`${request.method} ${request.path.slice(0, 200)} got no answer: ${String(error)}`);
      }
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status >= 500) serverErrors++;
      const problem = codedErrorProblem(request.method, response);
      if (problem !== undefined) {
        throw new Error(
          `${request.method} ${request.path.slice(0, 200)} answered ${problem}: ${response.text.slice(0, 300)}`,
        );
      }
    }),
    {
      numRuns: props.numRuns ?? 1000,
      ...(props.seed === undefined ? {} : { seed: props.seed }),
      endOnFailure: false,
    },
  );
  return { requests, serverErrors, statuses, routesHit: hit.size };
}
