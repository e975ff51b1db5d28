import { describe, expect, it } from "vitest";
import { AtomCache, encodeAtom } from "./atom.js";
import { bind, unbind } from "./bind.js";
import { bundle } from "./bundle.js";
import { HrrEncoder, hrrTokens, ROLE_CONTENT } from "./hrr-encoder.js";
import { PhaseAccumulator } from "./phase-accumulator.js";
import {
  cosOfCode,
  fastAtan2,
  fromRadians,
  PHASE_STEPS,
  radiansOfCode,
  sinOfCode,
  toRadians,
} from "./phase-vector.js";
import { maxSimilarityAt, similarity, similarityAt, similarityToUnit } from "./similarity.js";

const DIM = 1024;
const atom = (word: string) => encodeAtom(word, DIM);
const noise = 4 / Math.sqrt(DIM); // ~4 standard deviations of the similarity of unrelated vectors

describe("atoms", () => {
  it("are deterministic", () => {
    expect(atom("alice")).toEqual(atom("alice"));
    expect(atom("alice")).not.toEqual(atom("Alice"));
  });

  it("keep known values across runs, machines and releases", () => {
    // Pinned: changing the atom derivation silently invalidates every stored vector and bank.
    expect(Array.from(encodeAtom("hello", 8))).toEqual([
      8858, 51339, 33116, 23484, 34531, 42263, 18740, 1903,
    ]);
    expect(Array.from(encodeAtom("alice", 4))).toEqual([60345, 10596, 53428, 14997]);
  });

  it("depend on every byte of the SHA-256 digest of the word", () => {
    // Words sharing a long prefix still get unrelated atoms.
    expect(Math.abs(similarity(atom("prefix-shared-1"), atom("prefix-shared-2")))).toBeLessThan(noise);
    expect(Array.from(encodeAtom("", 4))).toHaveLength(4);
  });

  it("support dimensions that are not a multiple of 16", () => {
    const v = encodeAtom("x", 37);
    expect(v.length).toBe(37);
    expect(Array.from(v.subarray(0, 16))).toEqual(Array.from(encodeAtom("x", 16)));
  });

  it("reject a non-positive dimension with INVALID_ARGUMENT", () => {
    expect(() => encodeAtom("x", 0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("of different words are quasi-orthogonal", () => {
    const words = ["alice", "bob", "postgres", "tabs", "spaces", "deploy", "rollback", "friday"];
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j < words.length; j++) {
        expect(Math.abs(similarity(atom(words[i]!), atom(words[j]!)))).toBeLessThan(noise);
      }
    }
  });

  it("come from a bounded cache that keeps recently used atoms", () => {
    const cache = new AtomCache(DIM, 4);
    expect(cache.get("a")).toEqual(atom("a"));
    cache.get("b"); // young: a, b
    cache.get("c"); // young full: a, b retire; young: c
    cache.get("a"); // hit in the old generation: promoted
    expect(cache.hits).toBe(1);
    cache.get("d"); // young full: c, a retire; b is dropped
    expect(cache.size).toBeLessThanOrEqual(4);
    cache.get("a");
    cache.get("c");
    expect(cache.hits).toBe(3);
    cache.get("b");
    expect(cache.misses).toBe(5);
    expect(() => new AtomCache(DIM, 1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("similarity", () => {
  it("is 1 for a vector with itself", () => {
    expect(similarity(atom("x"), atom("x"))).toBeCloseTo(1, 6);
  });

  it("is -1 for a vector against its half-turn rotation", () => {
    const a = atom("x");
    const b = a.map((c) => (c + PHASE_STEPS / 2) & 0xffff);
    expect(similarity(a, b)).toBeCloseTo(-1, 6);
  });

  it("matches the float definition mean(cos(a - b))", () => {
    const a = atom("left");
    const b = atom("right");
    const ra = toRadians(a);
    const rb = toRadians(b);
    let sum = 0;
    for (let i = 0; i < DIM; i++) sum += Math.cos(ra[i]! - rb[i]!);
    expect(similarity(a, b)).toBeCloseTo(sum / DIM, 5);
  });

  it("scores a slot of a packed store like a standalone vector", () => {
    const store = new Uint16Array(DIM * 3);
    store.set(atom("one"), 0);
    store.set(atom("two"), DIM);
    expect(similarityAt(store, DIM, atom("two"), DIM)).toBeCloseTo(1, 6);
    expect(similarityAt(store, DIM, atom("one"), DIM)).toBeCloseTo(similarity(atom("two"), atom("one")), 10);
  });

  it("takes the larger of two similarities in one pass", () => {
    const store = new Uint16Array(DIM);
    store.set(bundle([atom("one"), atom("two")]));
    const expected = Math.max(
      similarityAt(store, 0, atom("one"), DIM),
      similarityAt(store, 0, atom("zzz"), DIM),
    );
    expect(maxSimilarityAt(store, 0, atom("zzz"), atom("one"), DIM)).toBeCloseTo(expected, 10);
  });

  it("rejects operands of different dimensions", () => {
    expect(() => similarity(encodeAtom("a", 8), encodeAtom("a", 16))).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("maps onto [0, 1] for scoring", () => {
    expect(similarityToUnit(-1)).toBe(0);
    expect(similarityToUnit(0)).toBe(0.5);
    expect(similarityToUnit(1)).toBe(1);
  });
});

describe("bind and unbind", () => {
  it("unbind(bind(a, b), b) recovers a exactly", () => {
    const a = atom("content");
    const b = atom("role");
    expect(unbind(bind(a, b), b)).toEqual(a);
    expect(unbind(bind(a, b), a)).toEqual(b);
  });

  it("is commutative and associative", () => {
    const [a, b, c] = [atom("a"), atom("b"), atom("c")];
    expect(bind(a, b)).toEqual(bind(b, a));
    expect(bind(bind(a, b), c)).toEqual(bind(a, bind(b, c)));
  });

  it("produces a vector dissimilar to both inputs", () => {
    const a = atom("a");
    const b = atom("b");
    const bound = bind(a, b);
    expect(Math.abs(similarity(bound, a))).toBeLessThan(noise);
    expect(Math.abs(similarity(bound, b))).toBeLessThan(noise);
  });

  it("preserves similarity: sim(bind(a, k), bind(b, k)) = sim(a, b)", () => {
    const k = atom("key");
    const a = atom("a");
    const b = bundle([a, atom("other")]);
    expect(similarity(bind(a, k), bind(b, k))).toBeCloseTo(similarity(a, b), 10);
  });

  it("may write into one of its inputs", () => {
    const a = Uint16Array.from(atom("a"));
    const b = atom("b");
    const expected = bind(a, b);
    bind(a, b, a);
    expect(a).toEqual(expected);
  });

  it("round-trips through radians", () => {
    const a = atom("a");
    expect(fromRadians(toRadians(a))).toEqual(a);
    expect(fromRadians([2 * Math.PI, -Math.PI / 2])).toEqual(Uint16Array.from([0, 49152]));
  });
});

describe("bundle", () => {
  it("stays similar to each member and dissimilar to non-members", () => {
    const members = ["a", "b", "c", "d", "e"].map(atom);
    const b = bundle(members);
    for (const member of members) expect(similarity(b, member)).toBeGreaterThan(0.25);
    expect(Math.abs(similarity(b, atom("stranger")))).toBeLessThan(noise);
  });

  it("of one vector is that vector", () => {
    const a = atom("solo");
    expect(similarity(bundle([a]), a)).toBeCloseTo(1, 6);
  });

  it("of two vectors is their per-element circular midpoint", () => {
    const b = bundle([fromRadians([0.2, 6.2]), fromRadians([0.6, 0.4])]);
    const radians = toRadians(b);
    expect(radians[0]).toBeCloseTo(0.4, 3);
    // 6.2 (= -0.083) and 0.4 straddle 0: the circular mean is 0.158, not the arithmetic mean 3.3.
    expect(radians[1]).toBeCloseTo((6.2 - 2 * Math.PI + 0.4) / 2, 3);
  });

  it("rejects an empty list", () => {
    expect(() => bundle([])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("equals an accumulator grown and shrunk incrementally", () => {
    const acc = new PhaseAccumulator(DIM);
    const [a, b, c] = [atom("a"), atom("b"), atom("c")];
    acc.add(a).add(b).add(c).remove(b);
    expect(acc.count).toBe(2);
    expect(acc.toPhaseVector()).toEqual(bundle([a, c]));
  });
});

describe("HrrEncoder", () => {
  const encoder = new HrrEncoder({ dim: DIM });

  it("tokenises to lowercase words without edge punctuation", () => {
    expect(hrrTokens('  Hello, "World"! (it) works.  ')).toEqual(["hello", "world", "it", "works"]);
  });

  it("encodes text as a bundle of its token atoms", () => {
    const v = encoder.encodeText("The deploy failed");
    expect(v).toEqual(bundle([atom("the"), atom("deploy"), atom("failed")]));
    expect(similarity(v, atom("deploy"))).toBeGreaterThan(0.3);
  });

  it("encodes empty text to the empty atom", () => {
    expect(encoder.encodeText("  ...  ")).toEqual(atom("__hrr_empty__"));
  });

  it("is deterministic across encoder instances", () => {
    const other = new HrrEncoder({ dim: DIM, atomCacheSize: 2 });
    expect(other.encodeFact("Alice Smith likes tea", ["Alice Smith"])).toEqual(
      encoder.encodeFact("Alice Smith likes tea", ["Alice Smith"]),
    );
  });

  it("encodes a fact so its entities and content words are recoverable by role", () => {
    const fact = encoder.encodeFact("Alice Smith prefers tabs over spaces", ["Alice Smith"]);
    expect(similarity(fact, encoder.entityKey("alice smith"))).toBeGreaterThan(0.3);
    expect(similarity(fact, encoder.entityKey("Bob"))).toBeLessThan(noise);
    expect(similarity(fact, encoder.contentKey("tabs"))).toBeGreaterThan(0.15);
    expect(similarity(fact, encoder.contentKey("python"))).toBeLessThan(noise);
    // Unbinding the content role leaves the text vector (up to bundling noise).
    const text = encoder.encodeText("Alice Smith prefers tabs over spaces");
    expect(similarity(unbind(fact, atom(ROLE_CONTENT)), text)).toBeGreaterThan(0.5);
  });

  it("writes into a caller buffer without reallocating", () => {
    const out = new Uint16Array(DIM);
    expect(encoder.encodeText("abc", out)).toBe(out);
  });
});

describe("phase helpers", () => {
  it("fastAtan2 agrees with Math.atan2 to well under one phase step", () => {
    let worst = 0;
    for (let k = 0; k < 2000; k++) {
      const angle = (k / 2000) * 2 * Math.PI - Math.PI;
      const r = 0.1 + (k % 7);
      worst = Math.max(
        worst,
        Math.abs(
          fastAtan2(r * Math.sin(angle), r * Math.cos(angle)) -
            Math.atan2(r * Math.sin(angle), r * Math.cos(angle)),
        ),
      );
    }
    expect(worst).toBeLessThan((2 * Math.PI) / PHASE_STEPS / 10);
    expect(fastAtan2(0, 0)).toBe(0);
  });

  it("sin and cos tables agree with Math", () => {
    for (const code of [0, 1, 16384, 32768, 49152, 65535]) {
      expect(cosOfCode(code)).toBeCloseTo(Math.cos(radiansOfCode(code)), 6);
      expect(sinOfCode(code)).toBeCloseTo(Math.sin(radiansOfCode(code)), 6);
    }
  });

  it("encodes a fact like binding and bundling its parts (within one phase step)", () => {
    const encoder = new HrrEncoder({ dim: DIM });
    const text = encoder.encodeText("alpha beta");
    const expected = bundle([
      bind(text, atom(ROLE_CONTENT)),
      bind(atom("carol white"), atom("__hrr_role_entity__")),
    ]);
    const actual = encoder.encodeFact("alpha beta", ["Carol White"]);
    for (let i = 0; i < DIM; i++) {
      // The fused encoder never quantises the text mean, so codes may differ by a step.
      expect(Math.abs(((actual[i]! - expected[i]! + 32768) & 0xffff) - 32768)).toBeLessThanOrEqual(2);
    }
  });
});
