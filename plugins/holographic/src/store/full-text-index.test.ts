import { describe, expect, it } from "vitest";
import { bm25Idf, bm25TermScore, fullTextTerms, stem } from "../retrieval/full-text.js";
import { FullTextIndex } from "./full-text-index.js";

describe("full-text terms", () => {
  it("lowercase, drop stopwords and stem plurals, -ed and -ing", () => {
    expect(fullTextTerms("The user prefers Tabs, and deployed the parties' bugs")).toEqual([
      "user",
      "prefer",
      "tab",
      "deploy",
      "party",
      "bug",
    ]);
  });

  it("leave short words and -ss/-us/-is endings alone", () => {
    expect(["gas", "class", "status", "analysis", "ring"].map(stem)).toEqual([
      "gas",
      "class",
      "status",
      "analysis",
      "ring",
    ]);
  });
});

describe("bm25", () => {
  it("rewards rare terms and saturates term frequency", () => {
    expect(bm25Idf(1, 100)).toBeGreaterThan(bm25Idf(50, 100));
    expect(bm25Idf(100, 100)).toBeGreaterThan(0);
    const once = bm25TermScore(1, 1, 10, 10);
    const twice = bm25TermScore(2, 1, 10, 10);
    expect(twice).toBeGreaterThan(once);
    expect(twice).toBeLessThan(2 * once);
    expect(bm25TermScore(1, 1, 5, 10)).toBeGreaterThan(bm25TermScore(1, 1, 20, 10));
  });
});

describe("FullTextIndex", () => {
  const build = () => {
    const index = new FullTextIndex();
    index.add(1, "tabs over spaces");
    index.add(2, "spaces everywhere in python");
    index.add(3, "deploy on fridays");
    return index;
  };

  it("returns matching documents best first, OR-joining terms", () => {
    const hits = build().search("tabs spaces", 10, () => true);
    expect(hits.map((hit) => hit.id)).toEqual([1, 2]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it("keeps only the best `limit` documents the filter accepts", () => {
    const index = build();
    expect(index.search("spaces", 1, () => true)).toHaveLength(1);
    expect(index.search("spaces", 10, (id) => id !== 1).map((hit) => hit.id)).toEqual([2]);
  });

  it("forgets removed documents and re-indexes replaced ones", () => {
    const index = build();
    index.remove(1, "tabs over spaces");
    expect(index.search("tabs", 10, () => true)).toEqual([]);
    expect(index.documentCount).toBe(2);
    index.remove(2, "spaces everywhere in python");
    index.add(2, "tabs now");
    expect(index.search("tabs", 10, () => true).map((hit) => hit.id)).toEqual([2]);
    expect(index.search("spaces", 10, () => true)).toEqual([]);
    expect(() => index.add(2, "again")).toThrow();
  });

  it("keeps the top scores when more documents match than fit", () => {
    const index = new FullTextIndex();
    for (let id = 1; id <= 50; id++) index.add(id, `alpha ${"filler ".repeat(id)}`);
    const hits = index.search("alpha", 5, () => true);
    // Shorter documents score higher under BM25 length normalisation.
    expect(hits.map((hit) => hit.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it("compacts after many removals without changing results", () => {
    const index = new FullTextIndex();
    for (let id = 1; id <= 2000; id++) index.add(id, `common ${id % 2 ? "odd" : "even"} item${id}`);
    for (let id = 1; id <= 2000; id += 2) index.remove(id, `common odd item${id}`);
    expect(index.documentCount).toBe(1000);
    expect(index.search("odd", 10, () => true)).toEqual([]);
    expect(index.search("item1000", 10, () => true).map((hit) => hit.id)).toEqual([1000]);
    index.add(1, "odd again");
    expect(index.search("odd", 10, () => true).map((hit) => hit.id)).toEqual([1]);
  });

  it("lets a very common term only boost documents that rarer terms matched", () => {
    const index = new FullTextIndex();
    for (let id = 1; id <= 200; id++) index.add(id, id <= 3 ? "rare common" : "common filler");
    // "common" is in every document; with 3 rare matches and limit 2 it only boosts them.
    expect(index.search("rare common", 2, () => true).map((hit) => hit.id)).toEqual([1, 2]);
    // With fewer rare matches than the limit, common matches fill the candidates.
    expect(index.search("rare common", 5, () => true)).toHaveLength(5);
  });
});
