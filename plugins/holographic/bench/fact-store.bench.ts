// Fact store costs as the store grows: add throughput (group-committed) and search / probe / reason
// latency at 1k, 10k and 100k facts. PGlite in memory by default; Postgres when DATABASE_URL is set.
// ENGRAM_HOLOGRAPHIC_BENCH_SIZES=1000,10000 limits the sizes.
import { benchLatency, benchThroughput, report, rssMiB } from "@engram/bench";
import { createDatabase } from "@engram/store";
import { migrateHolographic } from "../src/db/migrations/index.js";
import type { HolographicDB } from "../src/db/schema/index.js";
import { HolographicFactStore } from "../src/store/holographic-fact-store.js";

const sizes = (process.env.ENGRAM_HOLOGRAPHIC_BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number);
const url = process.env.DATABASE_URL;
const backend = url ? "postgres" : "pglite";

// Deterministic synthetic corpus: 400 first names x 400 last names, 5000 plain words.
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const syllables = [
  "ka",
  "lo",
  "mi",
  "ra",
  "te",
  "su",
  "no",
  "vi",
  "be",
  "da",
  "ge",
  "po",
  "zu",
  "fa",
  "ri",
  "on",
];
const word = (i: number) => syllables[i % 16]! + syllables[(i >> 4) % 16]! + syllables[(i >> 8) % 16]!;
const capital = (text: string) => text[0]!.toUpperCase() + text.slice(1);
const firstNames = Array.from({ length: 400 }, (_, i) => capital(word(i * 7 + 1)));
const lastNames = Array.from({ length: 400 }, (_, i) => capital(`${word(i * 11 + 3)}son`));
const people = Array.from({ length: 2000 }, () => `${pick(firstNames)} ${pick(lastNames)}`);
const words = Array.from({ length: 5000 }, (_, i) =>
  `${word(i)}${i % 10}`.replace(/\d/, (d) => "xyzqwjhkbp"[Number(d)]!),
);
const verbs = ["prefers", "uses", "maintains", "reviewed", "dislikes", "deployed", "wrote", "owns"];
let counter = 0;
function nextFact(): string {
  counter++;
  const a = pick(people);
  const b = pick(people);
  return `${a} ${pick(verbs)} the ${pick(words)} ${pick(words)} ${pick(words)} with ${b} on day ${counter}`;
}

// Per operation, the figure at each size: printed at the end as a growth summary.
const growth = new Map<string, Array<{ facts: number; value: number }>>();
const record = (op: string, facts: number, value: number) => {
  const list = growth.get(op) ?? [];
  list.push({ facts, value });
  growth.set(op, list);
};

const database = await createDatabase<HolographicDB>(
  url ? { url, schema: "bench_holographic" } : { memory: true },
);
try {
  if (url) {
    await database.db.schema.dropSchema("bench_holographic").ifExists().cascade().execute();
    await database.db.schema.createSchema("bench_holographic").execute();
  }
  await migrateHolographic(database.db);
  const store = await HolographicFactStore.open({ db: database.db });

  // Latency of one awaited add at a time (no batching possible): the floor of a single writer.
  await benchThroughput({
    name: "holographic.add (sequential, awaited one by one)",
    opsPerRun: 50,
    runs: 3,
    run: async () => {
      for (let i = 0; i < 50; i++) await store.add({ content: nextFact() });
    },
    extra: { backend },
  });

  const growthBatch = 2000;
  const measuredRuns = 3;
  for (const size of sizes) {
    const measured = Math.min(1000, Math.floor(size / 4));
    // Grow in concurrent chunks (group commit), then time the last chunks: how the add rate holds up
    // as the store grows.
    const target = size - measured * measuredRuns;
    while (store.size < target) {
      const n = Math.min(growthBatch, target - store.size);
      await store.addMany(Array.from({ length: n }, () => ({ content: nextFact() })));
    }
    const addResult = await benchThroughput({
      name: "holographic.add (concurrent, group-committed)",
      opsPerRun: measured,
      runs: measuredRuns,
      warmupRuns: 0,
      run: () => store.addMany(Array.from({ length: measured }, () => ({ content: nextFact() }))),
      extra: { backend, facts: size },
    });
    record("add facts/s", size, addResult.opsPerSec);
    const extra = { backend, facts: store.size, rssMiB: rssMiB() };
    let latency: Awaited<ReturnType<typeof benchLatency>>;
    latency = await benchLatency({
      name: "holographic.search",
      samples: 500,
      sample: () => store.search(`${pick(words)} ${pick(words)} ${pick(verbs)}`),
      extra,
    });
    record("search p95 ms", size, latency.p95Ms);
    if (size <= 10_000) {
      // The same search with candidates from Postgres full text (tsvector + GIN, ts_rank) instead of
      // the in-process BM25 index, for comparison. A second index costs memory, so small sizes only.
      const sqlStore = await HolographicFactStore.open({ db: database.db, fullTextSource: "database" });
      latency = await benchLatency({
        name: "holographic.search (fullTextSource: database)",
        samples: 200,
        sample: () => sqlStore.search(`${pick(words)} ${pick(words)} ${pick(verbs)}`),
        extra,
      });
      record("search (tsvector) p95 ms", size, latency.p95Ms);
      await sqlStore.close();
    }
    latency = await benchLatency({
      name: "holographic.probe",
      samples: 500,
      sample: () => store.probe(pick(people)),
      extra,
    });
    record("probe p95 ms", size, latency.p95Ms);
    latency = await benchLatency({
      name: "holographic.reason (2 entities)",
      samples: 500,
      sample: () => store.reason([pick(people), pick(people)]),
      extra,
    });
    record("reason (2 entities) p95 ms", size, latency.p95Ms);
    latency = await benchLatency({
      name: "holographic.related",
      samples: 100,
      sample: () => store.related(pick(people)),
      extra,
    });
    record("related p95 ms", size, latency.p95Ms);
    latency = await benchLatency({
      name: "holographic.contradict",
      samples: 10,
      warmup: 2,
      sample: () => store.contradict(),
      extra,
    });
    record("contradict p95 ms", size, latency.p95Ms);
  }
  await store.close();

  // How each cost grows with the store: the figure at each size and the factor per 10x more facts
  // (1 = flat, 10 = linear).
  console.log(`\nholographic fact store (${backend}): cost by store size`);
  for (const [op, points] of growth) {
    const first = points[0]!;
    const last = points[points.length - 1]!;
    const decades = Math.log10(last.facts / first.facts);
    const per10x = decades > 0 && first.value > 0 ? (last.value / first.value) ** (1 / decades) : 1;
    report({
      bench: "holographic.growth",
      op,
      backend,
      facts: points.map((point) => point.facts),
      values: points.map((point) => point.value),
      factorPer10x: Math.round(per10x * 100) / 100,
    });
    console.log(
      `  ${op.padEnd(34)} ${points.map((point) => `${point.facts}: ${point.value}`).join("   ")}   (x${per10x.toFixed(2)} per 10x facts)`,
    );
  }
} finally {
  await database.close();
}
