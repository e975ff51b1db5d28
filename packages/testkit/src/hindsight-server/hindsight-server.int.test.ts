import { describeEachBackend } from "@engram/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrateHindsightServer } from "./db/migrate-hindsight-server.js";
import type { HindsightServerDB } from "./db/schema.js";
import { type HindsightServer, startHindsightServer } from "./hindsight-server.js";

async function call(server: HindsightServer, method: string, path: string, body?: unknown, key = "secret") {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { detail?: unknown },
  };
}

const BANK = "/v1/default/banks/b1";

async function retain(server: HindsightServer, items: unknown[], bank = BANK) {
  const result = await call(server, "POST", `${bank}/memories`, { items });
  expect(result.status).toBe(200);
  return result.body;
}

async function recall(server: HindsightServer, body: Record<string, unknown>, bank = BANK) {
  const result = await call(server, "POST", `${bank}/memories/recall`, body);
  expect(result.status).toBe(200);
  return result.body.results as Array<
    Record<string, unknown> & { text: string; type: string; tags: string[] }
  >;
}

describeEachBackend<HindsightServerDB>(
  "Hindsight-compatible server",
  (getDb) => {
    let server: HindsightServer;
    beforeAll(async () => {
      server = await startHindsightServer({ db: getDb(), apiKey: "secret", processingDelayMs: 30 });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("answers /health and /version in the OpenAPI shapes without credentials", async () => {
      expect(await call(server, "GET", "/health", undefined, "wrong")).toEqual({
        status: 200,
        body: { status: "healthy", database: "connected" },
      });
      const version = await call(server, "GET", "/version", undefined, "wrong");
      expect(version.body.api_version).toBe("0.9.1");
      expect(Object.keys(version.body.features as object).sort()).toEqual(
        [
          "audit_log",
          "bank_config_api",
          "bank_llm_health",
          "document_export_api",
          "document_import_api",
          "file_upload_api",
          "llm_trace",
          "mcp",
          "observations",
          "store_document_text",
          "worker",
        ].sort(),
      );
    });

    it("answers FastAPI-style errors: 401, 404, 405 and 422 with loc/msg/type", async () => {
      expect(await call(server, "POST", `${BANK}/memories/recall`, { query: "x" }, "wrong")).toEqual({
        status: 401,
        body: { detail: "Invalid API key" },
      });
      expect((await call(server, "GET", "/v1/default/nope")).status).toBe(404);
      expect(await call(server, "GET", `${BANK}/memories/recall`)).toEqual({
        status: 405,
        body: { detail: "Method Not Allowed" },
      });
      const missing = await call(server, "POST", `${BANK}/memories/recall`, {
        budget: "huge",
        max_tokens: "x",
      });
      expect(missing.status).toBe(422);
      const detail = missing.body.detail as Array<{ type: string; loc: unknown[]; msg: string }>;
      expect(detail.map((issue) => [issue.type, issue.loc])).toEqual([
        ["missing", ["body", "query"]],
        ["enum", ["body", "budget"]],
        ["int_type", ["body", "max_tokens"]],
      ]);
      expect(detail.every((issue) => typeof issue.msg === "string")).toBe(true);
      const badItem = await call(server, "POST", `${BANK}/memories`, {
        items: [{ content: 3, update_mode: "merge" }],
      });
      expect((badItem.body.detail as Array<{ loc: unknown[] }>).map((issue) => issue.loc)).toEqual([
        ["body", "items", 0, "content"],
        ["body", "items", 0, "update_mode"],
      ]);
      const notJson = await call(server, "POST", `${BANK}/memories`, "{oops");
      expect(notJson.status).toBe(422);
      expect((notJson.body.detail as Array<{ type: string }>)[0]?.type).toBe("json_invalid");
    });

    it("creates banks on first use and retains synchronously with the RetainResponse shape", async () => {
      expect(await retain(server, [{ content: "Alice likes tea." }], "/v1/default/banks/fresh-bank")).toEqual(
        {
          success: true,
          bank_id: "fresh-bank",
          items_count: 1,
          async: false,
        },
      );
      const results = await recall(server, { query: "tea" }, "/v1/default/banks/fresh-bank");
      expect(results.map((result) => result.text)).toContain("Alice likes tea.");
    });

    it("runs async retains as operations: pending/processing, then completed", async () => {
      server.engine.pause();
      const submitted = await call(server, "POST", `${BANK}/memories`, {
        items: [{ content: "Bob owns the deploy pipeline." }],
        async: true,
      });
      expect(submitted.body).toMatchObject({ success: true, bank_id: "b1", items_count: 1, async: true });
      const id = submitted.body.operation_id as string;
      expect((await call(server, "GET", `${BANK}/operations/${id}`)).body.status).toBe("pending");
      server.engine.resume();
      const seen = ["pending"];
      while (seen.at(-1) !== "completed") {
        const status = (await call(server, "GET", `${BANK}/operations/${id}`)).body.status as string;
        if (status !== seen.at(-1)) seen.push(status);
      }
      // Every state observed, in order; "processing" may pass between two polls.
      expect(["pending,processing,completed", "pending,completed"]).toContain(seen.join(","));
      const done = await call(server, "GET", `${BANK}/operations/${id}`);
      expect(done.body).toMatchObject({ operation_id: id, status: "completed", operation_type: "retain" });
      expect(typeof done.body.completed_at).toBe("string");
      expect(await call(server, "GET", `${BANK}/operations/00000000-0000-4000-8000-000000000000`)).toEqual({
        status: 200,
        body: { operation_id: "00000000-0000-4000-8000-000000000000", status: "not_found" },
      });
      const chosen = "11111111-2222-4333-8444-555555555555";
      const body = { items: [{ content: "Idempotent fact." }], async: true, operation_id: chosen };
      const again = [
        await call(server, "POST", `${BANK}/memories`, body),
        await call(server, "POST", `${BANK}/memories`, body),
      ];
      expect(again.map((result) => result.body.operation_id)).toEqual([chosen, chosen]);
      await server.idle();
      expect((await recall(server, { query: "Idempotent fact", types: ["world"] })).length).toBe(1);
      expect((await call(server, "POST", "/v1/default/banks/other/memories", body)).status).toBe(409);
      const invalid = await call(server, "GET", `${BANK}/operations/not-a-uuid`);
      expect(invalid.status).toBe(400);
      expect(typeof invalid.body.detail).toBe("string");
    });

    it("replace deletes the document's old units; append keeps them and extracts only the new text", async () => {
      await retain(server, [{ content: "Carol uses Emacs.", document_id: "d1" }]);
      await retain(server, [{ content: "Carol uses Helix.", document_id: "d1" }]);
      let texts = (await recall(server, { query: "Carol uses", types: ["world"] })).map(
        (result) => result.text,
      );
      expect(texts).toEqual(["Carol uses Helix."]);
      await retain(server, [{ content: "Carol writes Rust.", document_id: "d1", update_mode: "append" }]);
      texts = (await recall(server, { query: "Carol", types: ["world"] }))
        .map((result) => result.text)
        .sort();
      expect(texts).toEqual(["Carol uses Helix.", "Carol writes Rust."]);
      const doc = await getDb()
        .selectFrom("hindsight_documents")
        .select("text")
        .where("document_id", "=", "d1")
        .executeTakeFirstOrThrow();
      expect(doc.text).toBe("Carol uses Helix.\nCarol writes Rust.");
    });

    it("filters by fact type and ignores 'opinion'", async () => {
      await retain(server, [
        {
          content: JSON.stringify([
            { role: "user", content: "Dave runs marathons." },
            { role: "assistant", content: "Dave sounds fit." },
          ]),
        },
      ]);
      const world = await recall(server, { query: "Dave", types: ["world", "opinion"] });
      expect(world.map((result) => [result.text, result.type])).toEqual([["Dave runs marathons.", "world"]]);
      const observations = await recall(server, { query: "Dave", types: ["observation"] });
      expect(observations.every((result) => result.type === "observation")).toBe(true);
      expect(observations[0]?.source_fact_ids).toHaveLength(1);
      expect(await recall(server, { query: "Dave", types: ["opinion"] })).toEqual([]);
      // Untyped recall returns each fact once, not the raw fact and its identical observation (issue #16).
      const untyped = (await recall(server, { query: "Dave" })).map((result) => result.text).sort();
      expect(untyped).toEqual(["Dave runs marathons.", "Dave sounds fit."]);
    });

    it("matches tags in any, all, any_strict, all_strict and exact modes", async () => {
      await retain(server, [
        { content: "Untagged zebra fact.", document_id: "t0" },
        { content: "Tagged zebra fact one.", tags: ["a"], document_id: "t1" },
        { content: "Tagged zebra fact two.", tags: ["a", "b"], document_id: "t2" },
        { content: "Tagged zebra fact three.", tags: ["b"], document_id: "t3" },
      ]);
      const docs = async (tags: string[], mode: string) =>
        (await recall(server, { query: "zebra fact", types: ["world"], tags, tags_match: mode }))
          .map((result) => result.document_id)
          .sort();
      expect(await docs(["a"], "any")).toEqual(["t0", "t1", "t2"]);
      expect(await docs(["a", "b"], "all")).toEqual(["t0", "t2"]);
      expect(await docs(["a"], "any_strict")).toEqual(["t1", "t2"]);
      expect(await docs(["a", "b"], "all_strict")).toEqual(["t2"]);
      expect(await docs(["a", "b"], "exact")).toEqual(["t2"]);
      expect(await docs([], "exact")).toEqual(["t0"]);
    });

    it("fuses semantic, keyword, entity and temporal arms and cuts results to max_tokens", async () => {
      await retain(server, [
        { content: "Erin Walsh deployed the payments service.", timestamp: "2026-01-02T10:00:00Z" },
        { content: "The weather was sunny.", timestamp: "2026-01-05T10:00:00Z" },
        { content: "Payments latency improved after the deploy.", timestamp: "2026-01-03T10:00:00Z" },
      ]);
      const results = await recall(server, { query: "erin walsh payments", types: ["world"] });
      expect(results[0]?.text).toBe("Erin Walsh deployed the payments service.");
      const scores = results[0]?.scores as { final: number; semantic: number | null; keyword: number | null };
      expect(scores.final).toBeGreaterThan(0);
      expect(scores.semantic).toBeGreaterThan(0);
      expect(scores.keyword).toBeGreaterThan(0);
      const temporal = await recall(server, { query: "what happened on 2026-01-05", types: ["world"] });
      expect(temporal[0]?.text).toBe("The weather was sunny.");
      const windowed = await recall(server, {
        query: "anything",
        types: ["world"],
        temporal_window: { start: "2026-01-03T00:00:00Z", end: "2026-01-03T23:59:59Z" },
      });
      expect(windowed[0]?.text).toBe("Payments latency improved after the deploy.");
      const cut = await recall(server, {
        query: "erin walsh payments deploy",
        types: ["world"],
        max_tokens: 12,
      });
      expect(cut).toHaveLength(1);
      expect(Object.keys(cut[0] ?? {}).sort()).toEqual(
        [
          "chunk_id",
          "context",
          "document_id",
          "entities",
          "id",
          "mentioned_at",
          "metadata",
          "occurred_end",
          "occurred_start",
          "scores",
          "source_fact_ids",
          "tags",
          "text",
          "type",
        ].sort(),
      );
    });

    it("reflects with text and, when include.facts is set, the facts it used", async () => {
      await retain(server, [{ content: "Frank drinks oolong tea." }]);
      const plain = await call(server, "POST", `${BANK}/reflect`, { query: "What does Frank drink?" });
      expect(plain.body.text).toContain("Frank drinks oolong tea.");
      expect(plain.body.based_on).toBeUndefined();
      const withFacts = await call(server, "POST", `${BANK}/reflect`, {
        query: "What does Frank drink?",
        include: { facts: {} },
      });
      const basedOn = withFacts.body.based_on as {
        memories: Array<{ text: string }>;
        mental_models: unknown[];
        directives: unknown[];
      };
      expect(basedOn.memories.map((fact) => fact.text)).toContain("Frank drinks oolong tea.");
      expect(basedOn.mental_models).toEqual([]);
      const empty = await call(server, "POST", "/v1/default/banks/empty/reflect", { query: "anything" });
      expect(typeof empty.body.text).toBe("string");
    });
  },
  { migrate: false, setup: (db) => migrateHindsightServer(db) },
);
