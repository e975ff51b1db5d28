import { describe, expect, it } from "vitest";
import { extractEntities, extractFacts } from "../extraction.js";
import { RRF_K, reciprocalRankFusion } from "./reciprocal-rank-fusion.js";
import { temporalWindowOf } from "./temporal-window.js";
import { trigramCosine, trigramVector } from "./trigram-similarity.js";

describe("reciprocalRankFusion", () => {
  it("sums 1/(k + rank) over the arms with k = 60 and breaks ties by first appearance", () => {
    const fused = reciprocalRankFusion([["a", "b", "c"], ["b", "a"], [], ["d"]]);
    expect(RRF_K).toBe(60);
    // a: 1/61 + 1/62, b: 1/62 + 1/61 (tie: a was seen first), d: 1/61, c: 1/63.
    expect(fused.map((entry) => entry.id)).toEqual(["a", "b", "d", "c"]);
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 62);
    expect(fused[2]?.score).toBeCloseTo(1 / 61);
    expect(fused[3]?.score).toBeCloseTo(1 / 63);
  });
});

describe("trigram similarity", () => {
  it("is 1 for the same words, higher for closer spellings and 0 for nothing shared", () => {
    const base = trigramVector("Alice prefers dark roast coffee");
    expect(trigramCosine(base, trigramVector("alice PREFERS dark roast coffee!"))).toBeCloseTo(1);
    expect(trigramCosine(base, trigramVector("Alice prefers coffee"))).toBeGreaterThan(
      trigramCosine(base, trigramVector("Bob likes tea")),
    );
    expect(trigramCosine(base, trigramVector("xyz"))).toBe(0);
  });
});

describe("temporal windows", () => {
  it("reads ISO dates and relative days from the query", () => {
    const anchor = Date.parse("2026-03-10T12:00:00Z");
    expect(temporalWindowOf("what happened on 2026-01-05?", anchor)).toEqual({
      start: Date.parse("2026-01-05T00:00:00Z"),
      end: Date.parse("2026-01-05T23:59:59.999Z"),
    });
    expect(temporalWindowOf("yesterday", anchor)?.start).toBe(Date.parse("2026-03-09T00:00:00Z"));
    expect(temporalWindowOf("who is Alice", anchor)).toBeUndefined();
  });
});

describe("extraction", () => {
  it("splits conversation JSON into per-message facts with roles, entities and dates", () => {
    const content = JSON.stringify([
      {
        role: "user",
        content: "Alice Smith moved to Berlin on 2025-06-01. She likes it.",
        timestamp: "2026-01-01T00:00:00Z",
      },
      { role: "assistant", content: "Noted.", timestamp: "2026-01-01T00:00:01Z" },
    ]);
    const facts = extractFacts(content, undefined);
    expect(facts.map((fact) => [fact.text, fact.factType])).toEqual([
      ["Alice Smith moved to Berlin on 2025-06-01.", "world"],
      ["She likes it.", "world"],
      ["Noted.", "experience"],
    ]);
    expect(facts[0]).toMatchObject({
      entities: ["alice smith", "berlin"],
      mentionedAt: "2026-01-01T00:00:00Z",
      occurredStart: "2025-06-01T00:00:00.000Z",
    });
    expect(extractEntities("The Quick Fox met Bob.")).toEqual(["quick fox", "bob"]);
  });
});
