// Hindsight provider costs on the compatible server (PGlite in memory; Postgres when DATABASE_URL is
// set): turns/s through syncTurn with the serial writer drained (one async retain per turn), and
// recall latency over HTTP at 10k memory units. ENGRAM_HINDSIGHT_BENCH_FACTS changes the corpus
// (each fact is two units: the raw fact and its observation).
import { benchLatency, benchThroughput, report, rssMiB } from "@engram/bench";
import { startHindsightServer } from "@engram/testkit/hindsight-server";
import { sql } from "kysely";
import { HindsightClient } from "../src/client/hindsight-client.js";
import { parseHindsightConfig } from "../src/config/hindsight-config.js";
import { HindsightProvider } from "../src/provider/hindsight-provider.js";

const url = process.env.DATABASE_URL;
const backend = url ? "postgres" : "pglite";
const facts = Number(process.env.ENGRAM_HINDSIGHT_BENCH_FACTS ?? 5000);

const schema = `bench_hindsight_${process.pid}`;
const server = await startHindsightServer({ database: url ? { url, schema } : { memory: true } });
try {
  // --- syncTurn throughput with the writer -----------------------------------------------------------
  const provider = new HindsightProvider({
    config: parseHindsightConfig({ mode: "external", baseUrl: server.url, bankId: "bench-turns" }),
  });
  await provider.initialize({ sessionId: "bench", platform: "cli", agentContext: "primary", extra: {} });
  const turnsPerRun = 100;
  let turnNumber = 0;
  await benchThroughput({
    name: "hindsight.syncTurn+writer",
    opsPerRun: turnsPerRun,
    runs: 5,
    run: async () => {
      for (let i = 0; i < turnsPerRun; i++) {
        turnNumber++;
        provider.syncTurn(
          {
            user: `Turn ${turnNumber}: I moved the staging cluster to region ${turnNumber % 7}.`,
            assistant: `Noted, staging is now in region ${turnNumber % 7}.`,
            timestamp: Date.now(),
          },
          { sessionId: "bench" },
        );
      }
      if (!(await provider.drain(120_000))) throw new Error("writer did not drain");
    },
    extra: { backend, unit: "turns/s", rssMiB: rssMiB() },
  });
  await provider.shutdown();
  await server.idle();

  // --- recall latency at 10k units ---------------------------------------------------------------------
  const people = ["Alice", "Bruno", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun"];
  const things = [
    "payments",
    "search",
    "billing",
    "deploys",
    "alerts",
    "the CLI",
    "docs",
    "auth",
    "storage",
    "metrics",
  ];
  const verbs = ["owns", "reviewed", "rewrote", "monitors", "documented", "migrated"];
  const batch = 500;
  const seedStart = performance.now();
  for (let start = 0; start < facts; start += batch) {
    const items = [];
    for (let i = start; i < Math.min(facts, start + batch); i++) {
      items.push({
        content: `${people[i % 10]} ${verbs[i % 6]} ${things[(i * 7) % 10]} in sprint ${i}.`,
        timestamp: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
        context: undefined,
        metadata: undefined,
        documentId: `doc-${i}`,
        entities: [],
        tags: i % 2 ? ["team:a"] : [],
        updateMode: "replace" as const,
      });
    }
    await server.engine.retain("bench-recall", {
      items,
      async: false,
      documentTags: [],
      operationId: undefined,
    });
  }
  report({
    bench: "hindsight.seed",
    units: facts * 2,
    seconds: Math.round(performance.now() - seedStart) / 1000,
    backend,
  });
  const client = new HindsightClient({ baseUrl: server.url, timeoutMs: 30_000 });
  const queries = [
    "who owns payments",
    "what did Chen migrate",
    "billing in sprint 42",
    "alerts monitors",
    "Dara docs",
  ];
  for (const types of [["observation"], undefined] as const) {
    await benchLatency({
      name: `hindsight.recall@${facts * 2}units${types ? ".observation" : ".all"}`,
      samples: 100,
      warmup: 10,
      sample: (i) =>
        client.recall("bench-recall", {
          query: queries[i % queries.length] ?? "x",
          ...(types ? { types: [...types] } : {}),
        }),
      extra: { backend, units: facts * 2, rssMiB: rssMiB() },
    });
  }
} finally {
  if (url) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(server.db);
  await server.close();
}
