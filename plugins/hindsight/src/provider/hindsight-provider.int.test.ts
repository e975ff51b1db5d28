import "reflect-metadata";
import {
  installPlugin,
  isEngramError,
  isMemoryInventory,
  MEMORY_PROVIDER_FACTORIES,
  MemoryManager,
  type MemoryProviderFactory,
} from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import {
  type HindsightServer,
  type HindsightServerDB,
  migrateHindsightServer,
  startHindsightServer,
} from "@engram/testkit/hindsight-server";
import { container } from "tsyringe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseHindsightConfig } from "../config/hindsight-config.js";
import hindsightPlugin from "../index.js";
import { defineProviderBehaviour, initContext, turn, uniqueId } from "../test-support/provider-behaviour.js";
import { HindsightProvider } from "./hindsight-provider.js";

interface RetainBody {
  items: Array<{
    content: string;
    timestamp?: string;
    context?: string;
    metadata?: Record<string, string>;
    document_id?: string;
    tags?: string[];
    update_mode?: string;
  }>;
  async?: boolean;
}

function retainBodies(server: HindsightServer, bank: string): RetainBody[] {
  return server.requests
    .filter((request) => request.method === "POST" && request.path === `/v1/default/banks/${bank}/memories`)
    .map((request) => request.body as RetainBody);
}

function sentMessages(
  body: RetainBody | undefined,
): Array<{ role: string; content: string; timestamp: string }> {
  return JSON.parse(body?.items[0]?.content ?? "[]");
}

async function documents(
  server: HindsightServer,
  bank: string,
): Promise<Array<{ document_id: string; text: string }>> {
  return server.db
    .selectFrom("hindsight_documents")
    .select(["document_id", "text"])
    .where("bank_id", "=", bank)
    .orderBy("document_id")
    .execute();
}

describeEachBackend<HindsightServerDB>(
  "HindsightProvider on the compatible server",
  (getDb) => {
    let server: HindsightServer;
    let legacy: HindsightServer;
    const providers: HindsightProvider[] = [];
    beforeAll(async () => {
      server = await startHindsightServer({ db: getDb(), apiKey: "k1", processingDelayMs: 20 });
      // Same tables, a server that predates update_mode "append".
      legacy = await startHindsightServer({ db: getDb(), apiKey: "k1", apiVersion: "0.4.2" });
    });
    afterAll(async () => {
      await server?.close();
      await legacy?.close();
    });
    afterEach(async () => {
      await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
    });

    function create(target: HindsightServer, raw: Record<string, unknown> = {}): HindsightProvider {
      const provider = new HindsightProvider({
        config: parseHindsightConfig({
          mode: "external",
          baseUrl: target.url,
          apiKey: "k1",
          timeouts: { requestMs: 5000, retainWaitMs: 5000, pollIntervalMs: 10 },
          ...raw,
        }),
      });
      providers.push(provider);
      return provider;
    }

    describe("behaviour", () => {
      defineProviderBehaviour({ url: () => server.url, apiKey: "k1", retainWaitMs: 5000, requestMs: 5000 });
    });

    it("sends retains in the OpenAPI shape: append to the session document, JSON messages with timestamps, tags and metadata", async () => {
      const bank = uniqueId("wire");
      const provider = create(server, { bankId: bank, retainTags: ["engram"] });
      await provider.initialize(
        initContext("s-wire", {
          parentSessionId: "s-parent",
          userId: "u1",
          extra: { chatId: "c9", threadId: "t3" },
        }),
      );
      provider.syncTurn(turn("I live in Lisbon.", "Lisbon is lovely.", Date.parse("2026-02-01T10:00:00Z")), {
        sessionId: "s-wire",
      });
      await provider.prefetch("where do I live", { sessionId: "s-wire" });
      const version = server.requests.find((request) => request.path === "/version");
      expect(version?.authorization).toBe("Bearer k1");
      const [body] = retainBodies(server, bank);
      expect(body).toEqual({
        items: [
          {
            content: JSON.stringify([
              { role: "user", content: "I live in Lisbon.", timestamp: "2026-02-01T10:00:00.000Z" },
              { role: "assistant", content: "Lisbon is lovely.", timestamp: "2026-02-01T10:00:00.000Z" },
            ]),
            timestamp: "2026-02-01T10:00:00.000Z",
            context: "conversation between the user and the assistant",
            metadata: { session_id: "s-wire", platform: "cli", user: "u1", chat: "c9", thread: "t3" },
            tags: ["engram", "session:s-wire", "parent:s-parent"],
            document_id: "s-wire",
            update_mode: "append",
          },
        ],
        async: true,
        operation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      const recallRequest = server.requests.find(
        (request) => request.path === `/v1/default/banks/${bank}/memories/recall`,
      );
      expect(recallRequest?.body).toEqual({
        query: "where do I live",
        types: ["observation"],
        budget: "mid",
        max_tokens: 4096,
      });
      const polled = server.requests.filter((request) =>
        request.path.startsWith(`/v1/default/banks/${bank}/operations/`),
      );
      expect(polled.length).toBeGreaterThan(0);
      expect(polled.every((request) => request.method === "GET")).toBe(true);
    });

    it("never resends old turns in append mode", async () => {
      const bank = uniqueId("append");
      const provider = create(server, { bankId: bank });
      await provider.initialize(initContext("s-append"));
      for (let i = 1; i <= 3; i++) {
        provider.syncTurn(turn(`Turn ${i} question.`, `Turn ${i} answer.`), { sessionId: "s-append" });
      }
      await provider.shutdown();
      await server.idle();
      const bodies = retainBodies(server, bank);
      expect(bodies).toHaveLength(3);
      bodies.forEach((body, index) => {
        expect(sentMessages(body).map((message) => message.content)).toEqual([
          `Turn ${index + 1} question.`,
          `Turn ${index + 1} answer.`,
        ]);
      });
      const [doc] = await documents(server, bank);
      expect(doc?.document_id).toBe("s-append");
      for (let i = 1; i <= 3; i++) expect(doc?.text).toContain(`Turn ${i} question.`);
    });

    it("retains one request at a time, in turn order, through bursts of turns and session switches", async () => {
      const bank = uniqueId("burst");
      let inFlight = 0;
      let maxInFlight = 0;
      // Counts concurrent retain requests on their way to the real server; nothing is faked.
      const countingFetch: typeof fetch = async (input, init) => {
        const isRetain = String(input).endsWith("/memories") && init?.method === "POST";
        if (isRetain) maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await fetch(input, init);
        } finally {
          if (isRetain) inFlight--;
        }
      };
      const provider = new HindsightProvider({
        config: parseHindsightConfig({ mode: "external", baseUrl: server.url, apiKey: "k1", bankId: bank }),
        fetch: countingFetch,
      });
      providers.push(provider);
      await provider.initialize(initContext("burst-0"));
      const expected: string[] = [];
      for (let round = 0; round < 4; round++) {
        const session = `burst-${round}`;
        if (round > 0) {
          provider.onSessionSwitch(session, {
            parentSessionId: `burst-${round - 1}`,
            reset: round % 2 === 0,
            rewound: false,
            reason: "branch",
          });
        }
        for (let i = 0; i < 10; i++) {
          const text = `Round ${round} turn ${i}.`;
          expected.push(text);
          provider.syncTurn(turn(text, "ok"), { sessionId: session });
          // Interleave with queued recalls, as a host does between turns.
          if (i % 3 === 0) provider.queuePrefetch(text, { sessionId: session });
          if (i % 4 === 0) await Promise.resolve();
        }
      }
      expect(await provider.drain(20_000)).toBe(true);
      expect(maxInFlight).toBe(1);
      const sent = retainBodies(server, bank).flatMap((body) =>
        sentMessages(body)
          .filter((message) => message.role === "user")
          .map((message) => message.content),
      );
      expect(sent).toEqual(expected);
      const documentsById = retainBodies(server, bank).map((body) => body.items[0]?.document_id);
      expect(new Set(documentsById)).toEqual(new Set(["burst-0", "burst-1", "burst-2", "burst-3"]));
    });

    it("retries a retain whose answer was lost with the same operation_id, storing the turn once", async () => {
      const bank = uniqueId("lost-ack");
      let dropped = 0;
      // The request reaches the real server; only its answer is lost on the way back.
      const lossyFetch: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).endsWith("/memories") && init?.method === "POST" && dropped === 0) {
          dropped++;
          await response.text();
          throw new TypeError("fetch failed", {
            cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
          });
        }
        return response;
      };
      const provider = new HindsightProvider({
        config: parseHindsightConfig({ mode: "external", baseUrl: server.url, apiKey: "k1", bankId: bank }),
        fetch: lossyFetch,
      });
      providers.push(provider);
      await provider.initialize(initContext("s-lost"));
      provider.syncTurn(turn("Kestrel Vance runs the night shift.", "Noted."), { sessionId: "s-lost" });
      expect(await provider.drain(10_000)).toBe(true);
      await server.idle();
      const bodies = retainBodies(server, bank) as Array<RetainBody & { operation_id?: string }>;
      expect(bodies).toHaveLength(2);
      expect(bodies[1]?.operation_id).toBe(bodies[0]?.operation_id);
      const units = await server.db
        .selectFrom("hindsight_units")
        .select("text")
        .where("bank_id", "=", bank)
        .where("fact_type", "=", "world")
        .execute();
      expect(units.map((unit) => unit.text)).toEqual(["Kestrel Vance runs the night shift."]);
    });

    it("retains every N turns and flushes the rest on a session switch under the old document", async () => {
      const bank = uniqueId("every");
      const provider = create(server, { bankId: bank, retainEveryTurns: 2 });
      await provider.initialize(initContext("s-a"));
      provider.syncTurn(turn("One.", "Ack one."), { sessionId: "s-a" });
      await provider.prefetch("x", { sessionId: "s-a" });
      expect(retainBodies(server, bank)).toHaveLength(0);
      provider.syncTurn(turn("Two.", "Ack two."), { sessionId: "s-a" });
      provider.syncTurn(turn("Three.", "Ack three."), { sessionId: "s-a" });
      provider.onSessionSwitch("s-b", {
        parentSessionId: "s-a",
        reset: true,
        rewound: false,
        reason: "new_session",
      });
      await provider.shutdown();
      const bodies = retainBodies(server, bank);
      expect(bodies.map((body) => [body.items[0]?.document_id, sentMessages(body).length])).toEqual([
        ["s-a", 4],
        ["s-a", 2],
      ]);
    });

    it("never overwrites the previous session's document on /new or /resume", async () => {
      const bank = uniqueId("switch");
      const provider = create(server, { bankId: bank });
      await provider.initialize(initContext("s-old"));
      provider.syncTurn(turn("Old session fact.", "Ok."), { sessionId: "s-old" });
      provider.onSessionSwitch("s-new", {
        parentSessionId: "s-old",
        reset: true,
        rewound: false,
        reason: "new_session",
      });
      provider.syncTurn(turn("New session fact.", "Ok."), { sessionId: "s-new" });
      provider.onSessionSwitch("s-old", {
        parentSessionId: undefined,
        reset: false,
        rewound: false,
        reason: "resume",
      });
      provider.syncTurn(turn("Resumed fact.", "Ok."), { sessionId: "s-old" });
      await provider.shutdown();
      await server.idle();
      const docs = await documents(server, bank);
      expect(docs.map((doc) => doc.document_id)).toEqual(["s-new", "s-old"]);
      expect(docs[1]?.text).toContain("Old session fact.");
      expect(docs[1]?.text).toContain("Resumed fact.");
      expect(docs[0]?.text).toContain("New session fact.");
      const bodies = retainBodies(server, bank);
      expect(bodies[1]?.items[0]?.tags).toEqual(["session:s-new", "parent:s-old"]);
    });

    it("drops a prefetch queued before a session switch", async () => {
      const bank = uniqueId("stale");
      const provider = create(server, { bankId: bank });
      await provider.initialize(initContext("s-1"));
      await provider.handleToolCall("hindsight_retain", { content: "Zorblax is the staging host." });
      provider.queuePrefetch("staging host zorblax", { sessionId: "s-1" });
      provider.onSessionSwitch("s-2", {
        parentSessionId: "s-1",
        reset: true,
        rewound: false,
        reason: "reset",
      });
      const recallsBefore = server.requests.filter((request) => request.path.endsWith("/recall")).length;
      const text = await provider.prefetch("", { sessionId: "s-2" });
      expect(text).toBe("");
      // The only recall was the stale one; nothing was recalled for the empty query.
      expect(
        server.requests.filter((request) => request.path.endsWith("/recall")).length,
      ).toBeLessThanOrEqual(recallsBefore + 1);
    });

    it("uses a per-process document and resends the session (replace) against servers before 0.5.0", async () => {
      const bank = uniqueId("legacy");
      const provider = create(legacy, { bankId: bank });
      await provider.initialize(initContext("s-l"));
      const firstDocument = provider.currentLegacyDocumentId;
      expect(firstDocument.startsWith("s-l-")).toBe(true);
      provider.syncTurn(turn("Legacy one.", "A."), { sessionId: "s-l" });
      provider.syncTurn(turn("Legacy two.", "B."), { sessionId: "s-l" });
      provider.onSessionSwitch("s-l", {
        parentSessionId: undefined,
        reset: false,
        rewound: false,
        reason: "resume",
      });
      const secondDocument = provider.currentLegacyDocumentId;
      provider.syncTurn(turn("Legacy three.", "C."), { sessionId: "s-l" });
      await provider.shutdown();
      await legacy.idle();
      const bodies = legacy.requests
        .filter((request) => request.path === `/v1/default/banks/${bank}/memories`)
        .map((request) => request.body as RetainBody);
      expect(
        bodies.map((body) => [
          body.items[0]?.document_id,
          body.items[0]?.update_mode,
          sentMessages(body).length,
        ]),
      ).toEqual([
        [firstDocument, undefined, 2],
        [firstDocument, undefined, 4],
        [secondDocument, undefined, 2],
      ]);
      expect(secondDocument).not.toBe(firstDocument);
      const docs = await documents(legacy, bank);
      expect(docs).toHaveLength(2);
      expect(docs.find((doc) => doc.document_id === firstDocument)?.text).toContain("Legacy two.");
    });

    it("resolves a bank-id template from the session context", async () => {
      const provider = create(server, { bankIdTemplate: "engram-{platform}-{user}" });
      await provider.initialize(initContext("s-t", { platform: "telegram", userId: "ann" }));
      expect(provider.currentBankId).toBe("engram-telegram-ann");
    });

    it("tools: retain synchronously without a document id; bad arguments are INVALID_ARGUMENT", async () => {
      const bank = uniqueId("tools");
      const provider = create(server, { bankId: bank });
      await provider.initialize(initContext("s-tools"));
      await provider.handleToolCall("hindsight_retain", {
        content: "Yuki maintains the CLI.",
        tags: ["team"],
      });
      const [body] = retainBodies(server, bank);
      expect(body?.async).toBe(false);
      expect(body?.items[0]?.document_id).toBeUndefined();
      expect(body?.items[0]?.tags).toEqual(["session:s-tools", "team"]);
      const reflectRequest = async () => {
        await provider.handleToolCall("hindsight_reflect", { query: "Who maintains the CLI?" });
        return server.requests
          .filter((request) => request.path === `/v1/default/banks/${bank}/reflect`)
          .at(-1)?.body;
      };
      expect(await reflectRequest()).toEqual({
        query: "Who maintains the CLI?",
        budget: "low",
        include: { facts: {} },
      });
      for (const [tool, args] of [
        ["hindsight_retain", {}],
        ["hindsight_retain", { content: "  " }],
        ["hindsight_retain", { content: "x", tags: "team" }],
        ["hindsight_recall", { query: 3 }],
        ["hindsight_recall", { query: "x", max_tokens: 0 }],
        ["hindsight_recall", { query: "x", types: ["opinion"] }],
        ["hindsight_recall", { query: "x", extra: true }],
        ["hindsight_reflect", { query: "x", budget: "max" }],
      ] as const) {
        let code: string | undefined;
        try {
          await provider.handleToolCall(tool, { ...args } as never);
        } catch (error) {
          code = isEngramError(error) ? error.code : String(error);
        }
        expect(code, `${tool} ${JSON.stringify(args)}`).toBe("INVALID_ARGUMENT");
      }
    });

    it("reports a wrong API key as UNAUTHORIZED and keeps prefetch empty", async () => {
      const provider = create(server, { bankId: uniqueId("auth"), apiKey: "wrong" });
      await provider.initialize(initContext("s-auth"));
      await expect(provider.handleToolCall("hindsight_recall", { query: "x" })).rejects.toMatchObject({
        code: "UNAUTHORIZED",
      });
      expect(await provider.prefetch("x", { sessionId: "s-auth" })).toBe("");
    });

    describe("memory inventory", () => {
      async function scoped(prefix: string, scope: string, sessionId: string): Promise<HindsightProvider> {
        const provider = create(server, { bankIdTemplate: `${prefix}-{scope}` });
        await provider.initialize(initContext(sessionId, { memoryScope: scope }));
        return provider;
      }

      it("is a MemoryInventory that lists the facts of its own scope's bank, newest first, with source session", async () => {
        const prefix = uniqueId("inv");
        const alice = await scoped(prefix, "alice", "s-alice");
        const bob = await scoped(prefix, "bob", "s-bob");
        expect(isMemoryInventory(alice)).toBe(true);
        await alice.handleToolCall("hindsight_retain", { content: "Alice keeps bees in Porto." });
        await alice.handleToolCall("hindsight_retain", { content: "Alice plays the cello." });
        await bob.handleToolCall("hindsight_retain", { content: "Bob keeps bees in Oslo." });

        const facts = await alice.listMemories();
        const texts = facts.map((fact) => fact.content);
        expect(texts.some((text) => text.includes("cello"))).toBe(true);
        expect(texts.some((text) => text.includes("Porto"))).toBe(true);
        // Another scope's bank is never listed.
        expect(texts.some((text) => text.includes("Bob") || text.includes("Oslo"))).toBe(false);
        const cello = facts.find((fact) => fact.content.includes("cello"));
        expect(cello).toMatchObject({
          sourceSessionId: "s-alice",
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        });
        expect(typeof cello?.createdAt).toBe("number");
        // Newest first: the cello was retained after the bees.
        expect(texts.findIndex((text) => text.includes("cello"))).toBeLessThan(
          texts.findIndex((text) => text.includes("Porto")),
        );

        const searched = await alice.listMemories({ query: "bees" });
        expect(searched.length).toBeGreaterThan(0);
        expect(searched.every((fact) => fact.content.toLowerCase().includes("bees"))).toBe(true);
        expect(await alice.listMemories({ limit: 1 })).toHaveLength(1);
        // Raw facts only: the observation derived from each is not listed a second time.
        expect(new Set(texts).size).toBe(texts.length);
        expect(facts.every((fact) => fact.category === "world" || fact.category === "experience")).toBe(true);
        const listRequests = server.requests.filter(
          (request) => request.path.includes(`/${prefix}-`) && request.path.endsWith("/memories/list"),
        );
        expect(new Set(listRequests.map((request) => request.path))).toEqual(
          new Set([`/v1/default/banks/${prefix}-alice/memories/list`]),
        );
        expect(
          listRequests
            .slice(-2)
            .map((request) => request.query)
            .sort(),
        ).toEqual(["?type=experience&limit=1", "?type=world&limit=1"]);
      });

      it("corrects a fact's text (recalled as corrected, old text gone) and never another scope's fact", async () => {
        const prefix = uniqueId("invupd");
        const alice = await scoped(prefix, "alice", "s-alice");
        const bob = await scoped(prefix, "bob", "s-bob");
        await alice.handleToolCall("hindsight_retain", { content: "Alice's favourite tea is sencha." });
        await bob.handleToolCall("hindsight_retain", { content: "Bob's favourite tea is oolong." });
        const [tea] = await alice.listMemories({ query: "sencha" });
        const [bobTea] = await bob.listMemories({ query: "oolong" });
        expect(tea && bobTea).toBeDefined();

        const updated = await alice.updateMemory(tea?.id ?? "", "Alice's favourite tea is gyokuro.");
        expect(updated).toMatchObject({
          id: tea?.id,
          content: "Alice's favourite tea is gyokuro.",
          sourceSessionId: "s-alice",
        });
        expect((await alice.listMemories()).map((fact) => fact.content)).toEqual([
          "Alice's favourite tea is gyokuro.",
        ]);
        // Recall (observations by default) sees the corrected fact, not the old one.
        const recalled = JSON.stringify(
          await alice.handleToolCall("hindsight_recall", { query: "favourite tea" }),
        );
        expect(recalled).toContain("gyokuro");
        expect(recalled).not.toContain("sencha");

        expect(await alice.updateMemory(bobTea?.id ?? "", "mine now")).toBeUndefined();
        expect((await bob.listMemories()).map((fact) => fact.content)).toEqual([
          "Bob's favourite tea is oolong.",
        ]);
        expect(await alice.updateMemory("not-a-uuid", "x")).toBeUndefined();
      });

      it("deletes a fact for good (no longer listed nor recalled) and never another scope's fact", async () => {
        const prefix = uniqueId("invdel");
        const alice = await scoped(prefix, "alice", "s-alice");
        const bob = await scoped(prefix, "bob", "s-bob");
        await alice.handleToolCall("hindsight_retain", { content: "Alice's locker code is 4711." });
        await alice.handleToolCall("hindsight_retain", { content: "Alice likes green tea." });
        await bob.handleToolCall("hindsight_retain", { content: "Bob's locker code is 1234." });
        const [bobFact] = await bob.listMemories({ query: "locker" });
        expect(bobFact).toBeDefined();

        // Bob's id from Alice's provider: not hers, nothing happens.
        expect(await alice.deleteMemory(bobFact?.id ?? "")).toBe(false);
        expect((await bob.listMemories({ query: "locker" })).map((fact) => fact.id)).toContain(bobFact?.id);

        const [locker] = await alice.listMemories({ query: "locker" });
        expect(locker).toBeDefined();
        expect(await alice.deleteMemory(locker?.id ?? "")).toBe(true);
        expect(await alice.listMemories({ query: "locker" })).toEqual([]);
        const recalled = await alice.handleToolCall("hindsight_recall", { query: "locker code" });
        expect(JSON.stringify(recalled)).not.toContain("4711");
        // The other fact (its own retain, so its own document) stays.
        expect((await alice.listMemories({ query: "tea" })).length).toBeGreaterThan(0);

        expect(await alice.deleteMemory(locker?.id ?? "")).toBe(false);
        expect(await alice.deleteMemory("not-a-uuid")).toBe(false);
        expect(await alice.deleteMemory("00000000-0000-4000-8000-000000000000")).toBe(false);
      });
    });

    it("works through installPlugin and a MemoryManager", async () => {
      const child = container.createChildContainer();
      await installPlugin(child, hindsightPlugin, {
        config: { mode: "external", baseUrl: server.url, apiKey: "k1", bankId: uniqueId("plugin") },
      });
      const [factory] = child.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
      const provider = factory?.(initContext("s-p")) as HindsightProvider;
      providers.push(provider);
      const manager = new MemoryManager();
      expect(manager.addProvider(provider).added).toBe(true);
      await provider.initialize(initContext("s-p"));
      const result = await manager.handleToolCall("hindsight_recall", { query: "x" });
      expect(result).toMatchObject({ ok: true, provider: "hindsight" });
    });
  },
  { migrate: false, setup: (db) => migrateHindsightServer(db) },
);
