import { describe, expect, it } from "vitest";
import { extractDurableFacts } from "./auto-extract.js";

describe("extractDurableFacts", () => {
  it("turns stated preferences into user_pref facts", () => {
    expect(extractDurableFacts(["I prefer tabs over spaces. Thanks!"])).toEqual([
      { content: "I prefer tabs over spaces.", category: "user_pref" },
    ]);
    expect(extractDurableFacts(["My favorite editor is Helix"])).toEqual([
      { content: "My favorite editor is Helix", category: "user_pref" },
    ]);
    expect(extractDurableFacts(["Please always use British spelling in replies"])[0]?.category).toBe(
      "user_pref",
    );
  });

  it("turns decisions into project facts", () => {
    expect(extractDurableFacts(["We decided to deploy on Tuesdays only"])).toEqual([
      { content: "We decided to deploy on Tuesdays only", category: "project" },
    ]);
    expect(extractDurableFacts(["ok. Let's use Postgres for the queue\nand move on"])).toEqual([
      { content: "Let's use Postgres for the queue", category: "project" },
    ]);
  });

  it("skips questions, conditionals, small talk and duplicates", () => {
    expect(
      extractDurableFacts([
        "Should I use tabs or spaces?",
        "Do I prefer tabs here",
        "If we decided to ship today, what breaks",
        "The weather is nice today",
        "hi",
      ]),
    ).toEqual([]);
    expect(extractDurableFacts(["I prefer dark mode.", "I prefer dark mode."])).toHaveLength(1);
  });
});
