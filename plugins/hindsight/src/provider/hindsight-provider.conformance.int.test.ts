// The provider conformance kit (@engram/testkit) on the Hindsight provider, against the compatible
// server on PGlite. The probe reads what reached the server: raw facts, by their `session:<id>` tag.
import type { MemoryProviderTestInitializer } from "@engram/testkit";
import { type HindsightServer, startHindsightServer } from "@engram/testkit/hindsight-server";
import { describeMemoryProvider } from "@engram/testkit/vitest";
import { parseHindsightConfig } from "../config/hindsight-config.js";
import { HindsightProvider } from "./hindsight-provider.js";

let server: HindsightServer | undefined;
let bankCounter = 0;

const initializer: MemoryProviderTestInitializer<HindsightProvider> = {
  name: "HindsightProvider (compatible server, PGlite)",
  beforeAll: async () => {
    server = await startHindsightServer();
  },
  afterAll: async () => {
    await server?.close();
  },
  beforeAllTimeout: 60_000,
  createProvider: (ctx) => {
    if (!server) throw new Error("server not started");
    bankCounter++;
    return new HindsightProvider({
      config: parseHindsightConfig({
        mode: "external",
        baseUrl: server.url,
        // A bank per provider keeps checks apart; the recall checks' providers (built for a session
        // context) use a bank per memory scope, as an installation configured with {scope} does.
        bankId: ctx ? "conformance-{scope}" : `conformance-${bankCounter}`,
        recallTypes: ["observation", "world", "experience"],
        timeouts: { requestMs: 2000, retainWaitMs: 2000, shutdownMs: 1500, pollIntervalMs: 10 },
      }),
    });
  },
  probe: async (provider) => {
    if (!server) throw new Error("server not started");
    await provider.drain(2000);
    await server.idle();
    const rows = await server.db
      .selectFrom("hindsight_units")
      .select(["text", "tags"])
      .where("bank_id", "=", provider.currentBankId)
      .where("fact_type", "!=", "observation")
      .execute();
    return {
      writes: rows.map((row) => ({
        sessionId: row.tags.find((tag) => tag.startsWith("session:"))?.slice("session:".length),
        text: row.text,
      })),
    };
  },
  sampleToolCalls: [
    { name: "hindsight_retain", args: { content: "The conformance kit likes tests." } },
    { name: "hindsight_recall", args: { query: "conformance" } },
    { name: "hindsight_reflect", args: { query: "What does the kit like?" } },
  ],
  timeouts: { hookMs: 5000, syncTurnMs: 1000, shutdownMs: 2000, toolMs: 5000 },
};

describeMemoryProvider(initializer);
