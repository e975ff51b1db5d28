import { describe, expect, it } from "vitest";
import { formatRecallLine, type MatchedContext, matchedContexts, rankRecall } from "./recall-ranking.js";

const hit = (uri: string, score: number, abstract: string, category = "preferences"): MatchedContext => ({
  uri,
  score,
  abstract,
  category,
  level: 2,
});

describe("rankRecall", () => {
  const props = { scoreThreshold: 0.2, limit: 10, maxChars: 10_000 };

  it("drops hits under the threshold and empty abstracts, and ranks by score with the URI breaking ties", () => {
    const ranked = rankRecall(
      [
        hit("viking://b", 0.5, "B"),
        hit("viking://low", 0.1, "low"),
        hit("viking://a", 0.5, "A"),
        hit("viking://c", 0.9, "C"),
        hit("viking://e", 0.8, " "),
      ],
      props,
    );
    expect(ranked.map((h) => h.uri)).toEqual(["viking://c", "viking://a", "viking://b"]);
  });

  it("keeps one hit per URI (the best) and one per text", () => {
    const ranked = rankRecall(
      [hit("viking://a", 0.4, "Tea."), hit("viking://a", 0.7, "Tea."), hit("viking://b", 0.6, " tea. ")],
      props,
    );
    expect(ranked).toEqual([hit("viking://a", 0.7, "Tea.")]);
  });

  it("stops at the limit and before the hit that would overflow the character budget", () => {
    const hits = [
      hit("viking://1", 0.9, "x".repeat(50)),
      hit("viking://2", 0.8, "y".repeat(50)),
      hit("viking://3", 0.7, "z"),
    ];
    expect(rankRecall(hits, { ...props, limit: 1 })).toHaveLength(1);
    const budget = formatRecallLine(hits[0] as MatchedContext).length + 10;
    expect(rankRecall(hits, { ...props, maxChars: budget }).map((h) => h.uri)).toEqual(["viking://1"]);
  });
});

describe("matchedContexts", () => {
  it("reads memory hits and skips malformed entries", () => {
    const result = {
      memories: [
        { uri: "viking://m", score: 0.5, category: "events", abstract: "A", level: 2 },
        { score: 1 },
        "junk",
        { uri: "viking://n", overview: "fallback text" },
      ],
      resources: [{ uri: "viking://r", abstract: "R" }],
    };
    expect(matchedContexts(result)).toEqual([
      hit("viking://m", 0.5, "A", "events"),
      { uri: "viking://n", score: 0, category: "", abstract: "fallback text", level: 2 },
    ]);
    expect(matchedContexts(result, ["resources"]).map((h) => h.uri)).toEqual(["viking://r"]);
    expect(matchedContexts(null)).toEqual([]);
  });
});
