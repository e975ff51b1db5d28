import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type CreateDatabaseProps, createDatabase, type Database } from "@engram/store";
import type { Kysely } from "kysely";
import { migrateHindsightServer } from "./db/migrate-hindsight-server.js";
import type { HindsightServerDB } from "./db/schema.js";
import { HindsightBankAdmin, parseBankUpdate } from "./hindsight-bank-admin.js";
import { HindsightMemoryEngine } from "./hindsight-memory-engine.js";
import { parseRecallRequest, parseReflectRequest, parseRetainRequest } from "./hindsight-requests.js";
import { HttpError } from "./http/fastapi-errors.js";

/** Version `/version` reports by default: the OpenAPI spec this server follows. */
export const HINDSIGHT_SERVER_API_VERSION = "0.9.1";

/** One request as the server received it, for wire-format assertions. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: string;
  readonly authorization: string | undefined;
  /** Parsed JSON body (`undefined` when there was none or it was not JSON). */
  readonly body: unknown;
}

export interface HindsightServerProps {
  /** An open database; otherwise one is opened from `database` props (default: PGlite in memory). */
  readonly db?: Kysely<HindsightServerDB>;
  readonly database?: CreateDatabaseProps;
  /** When set, every route but `/health` and `/version` wants `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** `api_version` of `/version` (set below 0.5.0 to play a server without `update_mode: append`). */
  readonly apiVersion?: string;
  /** Time an async operation stays `processing` before its work runs. */
  readonly processingDelayMs?: number;
  /** Port on 127.0.0.1 (default: any free one). */
  readonly port?: number;
}

/** A running stand-in server. */
export interface HindsightServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly db: Kysely<HindsightServerDB>;
  readonly engine: HindsightMemoryEngine;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Resolves when every async operation submitted so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BANK_ROUTE = /^\/v1\/default\/banks\/([^/]+)(\/.*)?$/;

type Handler = (
  bankId: string,
  body: unknown,
  rest: string[],
  query: URLSearchParams,
) => Promise<[number, unknown]>;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<{ raw: string; json: unknown; invalid: boolean }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  if (raw === "") return { raw, json: undefined, invalid: false };
  try {
    return { raw, json: JSON.parse(raw) as unknown, invalid: false };
  } catch {
    return { raw, json: undefined, invalid: true };
  }
}

/**
 * Starts a Hindsight-compatible HTTP server on 127.0.0.1: the paths and JSON shapes of Hindsight's
 * OpenAPI spec (0.9.x) for `/health`, `/version`, retain, recall, reflect, operation status, bank
 * profiles (create/update, get, list, delete), memory-unit and document listings, memory-unit get and update and document
 * get/delete, with FastAPI-style errors. Memory lives in Postgres or PGlite, in the server's own tables (migrated here,
 * own migration table). Extraction and retrieval are deterministic stand-ins for Hindsight's models.
 */
export async function startHindsightServer(props: HindsightServerProps = {}): Promise<HindsightServer> {
  let owned: Database<HindsightServerDB> | undefined;
  let db = props.db;
  if (!db) {
    owned = await createDatabase<HindsightServerDB>(props.database ?? { memory: true });
    db = owned.db;
  }
  await migrateHindsightServer(db);
  const engine = new HindsightMemoryEngine({
    db,
    ...(props.processingDelayMs === undefined ? {} : { processingDelayMs: props.processingDelayMs }),
  });
  const admin = new HindsightBankAdmin(db);
  const requests: RecordedRequest[] = [];
  const apiVersion = props.apiVersion ?? HINDSIGHT_SERVER_API_VERSION;

  const bankRoutes: Array<{ method: string; path: RegExp; handler: Handler }> = [
    {
      method: "PUT",
      path: /^$/,
      handler: async (bankId, body) => [200, await admin.upsertBank(bankId, parseBankUpdate(body))],
    },
    {
      method: "PATCH",
      path: /^$/,
      handler: async (bankId, body) => [200, await admin.upsertBank(bankId, parseBankUpdate(body))],
    },
    { method: "DELETE", path: /^$/, handler: async (bankId) => [200, await admin.deleteBank(bankId)] },
    { method: "GET", path: /^\/profile$/, handler: async (bankId) => [200, await admin.profile(bankId)] },
    {
      method: "GET",
      path: /^\/memories\/list$/,
      handler: async (bankId, _body, _rest, query) => [200, await admin.listMemories(bankId, query)],
    },
    {
      method: "GET",
      path: /^\/memories\/(?!list$|recall$)([^/]+)$/,
      handler: async (bankId, _body, [memoryId = ""]) => [200, await admin.memory(bankId, memoryId)],
    },
    {
      method: "PATCH",
      path: /^\/memories\/(?!list$|recall$)([^/]+)$/,
      handler: async (bankId, body, [memoryId = ""]) => [
        200,
        await admin.updateMemory(bankId, memoryId, body),
      ],
    },
    {
      method: "GET",
      path: /^\/documents$/,
      handler: async (bankId, _body, _rest, query) => [200, await admin.listDocuments(bankId, query)],
    },
    {
      method: "GET",
      path: /^\/documents\/([^/]+)$/,
      handler: async (bankId, _body, [documentId = ""]) => [200, await admin.document(bankId, documentId)],
    },
    {
      method: "DELETE",
      path: /^\/documents\/([^/]+)$/,
      handler: async (bankId, _body, [documentId = ""]) => [
        200,
        await admin.deleteDocument(bankId, documentId),
      ],
    },
    {
      method: "POST",
      path: /^\/memories$/,
      handler: async (bankId, body) => {
        const request = parseRetainRequest(body);
        if (request.operationId !== undefined && !UUID.test(request.operationId)) {
          throw new HttpError(422, [
            {
              type: "uuid_parsing",
              loc: ["body", "operation_id"],
              msg: "Input should be a valid UUID",
              input: request.operationId,
            },
          ]);
        }
        if (request.async) {
          const operationId = await engine.submitRetain(bankId, request);
          return [
            200,
            {
              success: true,
              bank_id: bankId,
              items_count: request.items.length,
              async: true,
              operation_id: operationId,
            },
          ];
        }
        await engine.retain(bankId, request);
        return [200, { success: true, bank_id: bankId, items_count: request.items.length, async: false }];
      },
    },
    {
      method: "POST",
      path: /^\/memories\/recall$/,
      handler: async (bankId, body) => {
        const results = await engine.recall(bankId, parseRecallRequest(body));
        return [200, { results, trace: null, entities: null, chunks: null }];
      },
    },
    {
      method: "POST",
      path: /^\/reflect$/,
      handler: async (bankId, body) => [200, await engine.reflect(bankId, parseReflectRequest(body))],
    },
    {
      method: "GET",
      path: /^\/operations\/([^/]+)$/,
      handler: async (bankId, _body, [operationId = ""]) => {
        if (!UUID.test(operationId)) throw new HttpError(400, `Invalid operation_id format: ${operationId}`);
        return [200, await engine.operationStatus(bankId, operationId.toLowerCase())];
      },
    },
  ];

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const { json, invalid } = await readBody(req);
    const authorization = req.headers.authorization;
    requests.push({ method, path: url.pathname, query: url.search, authorization, body: json });

    if (url.pathname === "/health" && method === "GET")
      return send(res, 200, { status: "healthy", database: "connected" });
    if (url.pathname === "/version" && method === "GET") {
      return send(res, 200, {
        api_version: apiVersion,
        features: {
          observations: true,
          mcp: false,
          worker: true,
          bank_config_api: false,
          bank_llm_health: false,
          file_upload_api: false,
          document_export_api: false,
          document_import_api: false,
          audit_log: false,
          llm_trace: false,
          store_document_text: true,
        },
      });
    }
    const authorized = props.apiKey === undefined || authorization === `Bearer ${props.apiKey}`;
    if (url.pathname === "/v1/default/banks") {
      if (!authorized) return send(res, 401, { detail: "Invalid API key" });
      if (method !== "GET") return send(res, 405, { detail: "Method Not Allowed" });
      return send(res, 200, await admin.listBanks());
    }
    const match = BANK_ROUTE.exec(url.pathname);
    if (!match) return send(res, 404, { detail: "Not Found" });
    if (!authorized) return send(res, 401, { detail: "Invalid API key" });
    const bankId = decodeURIComponent(match[1] ?? "");
    const rest = match[2] ?? "";
    const candidates = bankRoutes.filter((entry) => entry.path.test(rest));
    if (candidates.length === 0) return send(res, 404, { detail: "Not Found" });
    const found = candidates.find((entry) => entry.method === method);
    if (!found) return send(res, 405, { detail: "Method Not Allowed" });
    if (invalid) {
      return send(res, 422, {
        detail: [
          {
            type: "json_invalid",
            loc: ["body", 0],
            msg: "JSON decode error",
            input: {},
            ctx: { error: "Expecting value" },
          },
        ],
      });
    }
    const params = (found.path.exec(rest) ?? []).slice(1).map((part) => decodeURIComponent(part));
    const [status, body] = await found.handler(bankId, json, params, url.searchParams);
    send(res, status, body);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError) return send(res, error.status, { detail: error.detail });
      send(res, 500, { detail: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(props.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.idle();
      await owned?.close();
    })();
    return closing;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    engine,
    requests,
    idle: () => engine.idle(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
