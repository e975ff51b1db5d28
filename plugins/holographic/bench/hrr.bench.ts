// HRR primitive throughput: atom derivation, text/fact encoding, bind, similarity and a packed scan.
import { benchLatency, benchThroughput, rssMiB } from "@engram/bench";
import { bind, encodeAtom, HrrEncoder, similarity, similarityAt } from "../src/index.js";

const dim = 1024;
const encoder = new HrrEncoder({ dim });
const words = Array.from({ length: 2000 }, (_, i) => `word${i}`);
const sentences = Array.from(
  { length: 1000 },
  (_, i) =>
    `${words[i % 2000]} ${words[(i * 7) % 2000]} likes ${words[(i * 13) % 2000]} over ${words[(i * 31) % 2000]}`,
);
const a = encoder.atom("alpha");
const b = encoder.atom("beta");
const out = new Uint16Array(dim);
let sink = 0;

await benchThroughput({
  name: "hrr.encodeAtom (uncached)",
  opsPerRun: 500,
  run: () => {
    for (let i = 0; i < 500; i++) sink += encodeAtom(`fresh-${i}`, dim)[0]!;
  },
  extra: { dim },
});
await benchThroughput({
  name: "hrr.bind",
  opsPerRun: 100_000,
  run: () => {
    for (let i = 0; i < 100_000; i++) bind(a, b, out);
  },
  extra: { dim },
});
await benchThroughput({
  name: "hrr.similarity",
  opsPerRun: 100_000,
  run: () => {
    for (let i = 0; i < 100_000; i++) sink += similarity(a, b);
  },
  extra: { dim },
});
await benchThroughput({
  name: "hrr.encodeText (warm atom cache)",
  opsPerRun: sentences.length,
  run: () => {
    for (const sentence of sentences) encoder.encodeText(sentence, out);
  },
  extra: { dim, wordsPerText: 6 },
});
await benchThroughput({
  name: "hrr.encodeFact (2 entities)",
  opsPerRun: sentences.length,
  run: () => {
    for (let i = 0; i < sentences.length; i++) {
      encoder.encodeFact(sentences[i]!, [words[i % 2000]!, words[(i * 7) % 2000]!], out);
    }
  },
  extra: { dim },
});

for (const n of [1_000, 10_000, 100_000]) {
  const store = new Uint16Array(n * dim);
  for (let i = 0; i < n; i++) store.set(encoder.atom(words[i % 2000]!), i * dim);
  const key = encoder.entityKey("alice");
  await benchLatency({
    name: "hrr.scan (similarity of a key to every packed vector)",
    samples: n >= 100_000 ? 20 : 100,
    sample: () => {
      for (let i = 0; i < n; i++) sink += similarityAt(store, i * dim, key, dim);
    },
    extra: { dim, vectors: n, rssMiB: rssMiB() },
  });
}

if (sink === 42) console.log("");
