/**
 * The stand-in server against the real `@vectorize-io/hindsight-client` 0.9.x: every call a memory
 * integration makes (version, banks and their profiles, retain, recall, reflect, memory and document
 * listings, one memory unit, document and bank deletion) gets a real answer, not a 404. Before issue #16 the server
 * answered 404 to listMemories, createBank, getBankProfile, listDocuments, deleteDocument, listBanks
 * and deleteBank, and an untyped recall returned every fact twice.
 */
import { createClient, createConfig, HindsightClient, sdk } from "@vectorize-io/hindsight-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HindsightServer, startHindsightServer } from "./hindsight-server.js";

describe("the Hindsight stand-in server with the real hindsight-client", () => {
  let server: HindsightServer;
  let client: HindsightClient;
  const key = "compat-key";

  beforeAll(async () => {
    server = await startHindsightServer({ apiKey: key });
    client = new HindsightClient({ baseUrl: server.url, apiKey: key });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("creates a bank, updates its profile and reads it back", async () => {
    expect((await client.getVersion()).api_version).toBe("0.9.1");
    const created = await client.createBank("compat", {
      name: "Compat bank",
      mission: "Remember the user's preferences.",
      disposition: { skepticism: 4, literalism: 2, empathy: 5 },
    });
    expect(created).toMatchObject({
      bank_id: "compat",
      name: "Compat bank",
      mission: "Remember the user's preferences.",
      disposition: { skepticism: 4, literalism: 2, empathy: 5 },
    });
    await client.setMission("compat", "Remember everything about tea.");
    const profile = await client.getBankProfile("compat");
    expect(profile).toMatchObject({
      name: "Compat bank",
      mission: "Remember everything about tea.",
      disposition: { skepticism: 4, literalism: 2, empathy: 5 },
    });
    // An unknown bank is created with defaults on first use, as the real server does.
    expect(await client.getBankProfile("fresh")).toMatchObject({
      bank_id: "fresh",
      disposition: { skepticism: 3, literalism: 3, empathy: 3 },
    });
  });

  it("retains, then recalls each fact once without types, and reflects", async () => {
    await client.retain("compat", "Ada prefers genmaicha tea. Ada lives in Lisbon.", { documentId: "doc-1" });
    await client.retainBatch("compat", [{ content: "Ada's cat is called Miso.", document_id: "doc-2" }]);
    const untyped = await client.recall("compat", "What does Ada like and where does she live?");
    const texts = untyped.results.map((result) => result.text);
    expect(texts.length).toBeGreaterThan(0);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts).toContain("Ada prefers genmaicha tea.");
    const reflected = await client.reflect("compat", "Which tea does Ada prefer?");
    expect(reflected.text).toMatch(/genmaicha/i);
  });

  it("lists memory units and documents, pages them, and reads a document", async () => {
    const memories = await client.listMemories("compat", { limit: 2 });
    expect(memories.limit).toBe(2);
    expect(memories.items).toHaveLength(2);
    expect(memories.total).toBeGreaterThanOrEqual(3);
    const world = await client.listMemories("compat", { type: "observation", q: "miso" });
    expect(world.items.map((item) => item.text)).toEqual(["Ada's cat is called Miso."]);
    const documents = await client.listDocuments("compat");
    expect(documents.total).toBe(2);
    expect(documents.items.map((item) => item.id).sort()).toEqual(["doc-1", "doc-2"]);
    const document = await client.getDocument("compat", "doc-1");
    expect(document).toMatchObject({
      id: "doc-1",
      original_text: "Ada prefers genmaicha tea. Ada lives in Lisbon.",
    });
    expect(await client.getDocument("compat", "missing")).toBeNull();
  });

  it("reads and corrects one memory unit by id in the listing's shape, only from its own bank", async () => {
    const [listed] = (await client.listMemories("compat", { q: "genmaicha", type: "world" })).items;
    expect(listed).toBeDefined();
    // getMemory has no HindsightClient method in 0.9.x; the generated SDK calls it.
    const sdkClient = createClient(
      createConfig({ baseUrl: server.url, headers: { Authorization: `Bearer ${key}` } }),
    );
    const found = await sdk.getMemory({
      client: sdkClient,
      path: { bank_id: "compat", memory_id: String(listed?.id ?? "") },
    });
    expect(found.error).toBeUndefined();
    expect(found.data).toMatchObject({
      id: listed?.id,
      text: listed?.text,
      document_id: "doc-1",
      fact_type: "world",
      bank_id: "compat",
    });
    const elsewhere = await sdk.getMemory({
      client: sdkClient,
      path: { bank_id: "fresh", memory_id: String(listed?.id ?? "") },
    });
    expect(elsewhere.response.status).toBe(404);

    const patched = await sdk.updateMemory({
      client: sdkClient,
      path: { bank_id: "compat", memory_id: String(listed?.id ?? "") },
      body: { text: "Ada prefers sencha tea." },
    });
    expect(patched.error).toBeUndefined();
    expect(patched.data).toMatchObject({
      id: listed?.id,
      text: "Ada prefers sencha tea.",
      fact_type: "world",
    });
    const observations = await client.listMemories("compat", { type: "observation", q: "tea" });
    expect(observations.items.map((item) => item.text)).toEqual(["Ada prefers sencha tea."]);
    const invalid = await sdk.updateMemory({
      client: sdkClient,
      path: { bank_id: "compat", memory_id: String(listed?.id ?? "") },
      body: { text: 42 as unknown as string },
    });
    expect(invalid.response.status).toBe(422);
  });

  it("deletes a document with its memory units, lists banks, and deletes a bank", async () => {
    await client.deleteDocument("compat", "doc-2");
    const after = await client.listMemories("compat", { q: "Miso" });
    expect(after.items).toEqual([]);
    await expect(client.deleteDocument("compat", "doc-2")).rejects.toThrow(/404|not found/i);

    // listBanks has no HindsightClient method in 0.9.x; integrations call the generated SDK.
    const sdkClient = createClient(
      createConfig({ baseUrl: server.url, headers: { Authorization: `Bearer ${key}` } }),
    );
    const listed = await sdk.listBanks({ client: sdkClient });
    expect(listed.error).toBeUndefined();
    const banks = listed.data?.banks ?? [];
    expect(banks.map((bank) => bank.bank_id)).toEqual(["compat", "fresh"]);
    expect(banks.find((bank) => bank.bank_id === "compat")).toMatchObject({
      name: "Compat bank",
      fact_count: 2,
    });

    await client.deleteBank("fresh");
    const remaining = await sdk.listBanks({ client: sdkClient });
    expect(remaining.data?.banks.map((bank) => bank.bank_id)).toEqual(["compat"]);
    await expect(client.deleteBank("fresh")).rejects.toThrow();
  });
});
