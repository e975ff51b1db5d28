// Fact store costs as the store grows: add throughput (group-committed) and search / probe / reason
// latency at 1k, 10k and 100k facts. PGlite in memory by default; Postgres when DATABASE_URL is set.
// ENGRAM_HOLOGRAPHIC_BENCH_SIZES=1000,10000 limits the sizes.
import { benchLatency, benchThroughput, rssMiB } from "@engram/bench";
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
    await benchThroughput({
      name: "holographic.add (concurrent, group-committed)",
      opsPerRun: measured,
      runs: measuredRuns,
      warmupRuns: 0,
      run: () => store.addMany(Array.from({ length: measured }, () => ({ content: nextFact() }))),
      extra: { backend, facts: size },
    });
    const extra = { backend, facts: store.size, rssMiB: rssMiB() };
    await benchLatency({
      name: "holographic.search",
      samples: 500,
      sample: () => store.search(`${pick(words)} ${pick(words)} ${pick(verbs)}`),
      extra,
    });
    await benchLatency({
      name: "holographic.probe",
      samples: 500,
      sample: () => store.probe(pick(people)),
      extra,
    });
    await benchLatency({
      name: "holographic.reason (2 entities)",
      samples: 500,
      sample: () => store.reason([pick(people), pick(people)]),
      extra,
    });
    await benchLatency({
      name: "holographic.related",
      samples: 100,
      sample: () => store.related(pick(people)),
      extra,
    });
    await benchLatency({
      name: "holographic.contradict",
      samples: 10,
      warmup: 2,
      sample: () => store.contradict(),
      extra,
    });
  }
  await store.close();
} finally {
  await database.close();
}
