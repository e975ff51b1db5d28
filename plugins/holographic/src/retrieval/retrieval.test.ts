import { describe, expect, it } from "vitest";
import { contradictionScore, MIN_CONTRADICTION_OVERLAP } from "./contradiction.js";
import { DEFAULT_RELEVANCE_WEIGHTS, fusedScore, normalizeRanks, relevance } from "./fused-score.js";
import { jaccard, jaccardSorted } from "./jaccard.js";
import { halfLifeDaysToMs, temporalDecay } from "./temporal-decay.js";
import { tokenSet } from "./tokenize.js";
import { clampTrust, trustAfterFeedback } from "./trust.js";

describe("tokenSet", () => {
  it("lowercases, strips edge punctuation and splits on / and =", () => {
    expect([...tokenSet('Use "Tabs", not spaces! key=value a/b #tag @me')]).toEqual([
      "use",
      "tabs",
      "not",
      "spaces",
      "key",
      "value",
      "a",
      "b",
      "tag",
      "me",
    ]);
  });

  it("turns CJK runs into bigrams and keeps single characters", () => {
    expect([...tokenSet("芯片公司 好 api接口")]).toEqual(["芯片", "片公", "公司", "好", "api", "接口"]);
  });

  it("is empty for empty text", () => {
    expect(tokenSet("").size).toBe(0);
  });
});

describe("jaccard", () => {
  it("is |intersection| / |union|", () => {
    expect(jaccard(new Set(["a", "b", "c"]), new Set(["b", "c", "d"]))).toBe(0.5);
    expect(jaccard(new Set(["a"]), new Set(["a"]))).toBe(1);
    expect(jaccard(new Set(["a"]), new Set(["b"]))).toBe(0);
    expect(jaccard(new Set(), new Set())).toBe(0);
  });

  it("on sorted id lists agrees with the set version", () => {
    expect(jaccardSorted([1, 2, 3], [2, 3, 4])).toBe(0.5);
    expect(jaccardSorted(new Int32Array([1, 5, 9]), new Int32Array([5]))).toBeCloseTo(1 / 3);
    expect(jaccardSorted([], [])).toBe(0);
    expect(jaccardSorted([], [1])).toBe(0);
  });
});

describe("scores", () => {
  it("weighs full text 0.4, Jaccard 0.3 and HRR 0.3 by default", () => {
    expect(relevance({ fullText: 1, jaccard: 0, hrr: 0 })).toBeCloseTo(0.4);
    expect(relevance({ fullText: 0, jaccard: 1, hrr: 0 })).toBeCloseTo(0.3);
    expect(relevance({ fullText: 0, jaccard: 0, hrr: 1 })).toBeCloseTo(0.3);
    expect(relevance({ fullText: 1, jaccard: 1, hrr: 1 })).toBeCloseTo(1);
    expect(relevance({ fullText: 0.5, jaccard: 0.5, hrr: 0.5 }, { fullText: 1, jaccard: 0, hrr: 0 })).toBe(
      0.5,
    );
    expect(
      DEFAULT_RELEVANCE_WEIGHTS.fullText + DEFAULT_RELEVANCE_WEIGHTS.jaccard + DEFAULT_RELEVANCE_WEIGHTS.hrr,
    ).toBe(1);
  });

  it("multiply relevance by trust and decay", () => {
    expect(fusedScore(0.8, 0.5)).toBeCloseTo(0.4);
    expect(fusedScore(0.8, 0.5, 0.5)).toBeCloseTo(0.2);
    expect(fusedScore(1, 0)).toBe(0);
  });

  it("normalise full-text ranks by the largest one", () => {
    expect(normalizeRanks([0.2, -0.4, 0.1])).toEqual([0.5, 1, 0.25]);
    expect(normalizeRanks([0, 0])).toEqual([0, 0]);
  });
});

describe("temporalDecay", () => {
  const day = halfLifeDaysToMs(1);

  it("halves once per half-life", () => {
    expect(temporalDecay(0, 0, 7 * day)).toBe(1);
    expect(temporalDecay(0, 7 * day, 7 * day)).toBeCloseTo(0.5);
    expect(temporalDecay(0, 14 * day, 7 * day)).toBeCloseTo(0.25);
  });

  it("is off for a non-positive half-life and clamps future timestamps", () => {
    expect(temporalDecay(0, 100 * day, 0)).toBe(1);
    expect(temporalDecay(10 * day, 0, day)).toBe(1);
  });
});

describe("trust", () => {
  it("rises by 0.05 when helpful and falls by 0.10 when not", () => {
    expect(trustAfterFeedback(0.5, true)).toBe(0.55);
    expect(trustAfterFeedback(0.5, false)).toBe(0.4);
  });

  it("stays within [0, 1]", () => {
    expect(trustAfterFeedback(0.98, true)).toBe(1);
    expect(trustAfterFeedback(0.05, false)).toBe(0);
    expect(clampTrust(Number.NaN)).toBe(0);
    expect(clampTrust(-3)).toBe(0);
    expect(clampTrust(7)).toBe(1);
  });

  it("does not drift over repeated feedback", () => {
    let trust = 0.5;
    for (let i = 0; i < 2; i++) trust = trustAfterFeedback(trust, true);
    expect(trust).toBe(0.6);
  });
});

describe("contradictionScore", () => {
  it("is entity overlap times content dissimilarity", () => {
    expect(contradictionScore(1, -1)).toBe(1);
    expect(contradictionScore(1, 1)).toBe(0);
    expect(contradictionScore(0.5, 0)).toBe(0.25);
  });

  it("is 0 below the minimum overlap", () => {
    expect(contradictionScore(MIN_CONTRADICTION_OVERLAP - 0.01, -1)).toBe(0);
  });
});
