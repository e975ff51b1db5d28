import { describe, expect, it } from "vitest";
import { cleanEntityName, entityKey } from "./entity-name.js";
import { extractEntities } from "./extract-entities.js";
import { parseAliases } from "./parse-aliases.js";

const names = (text: string) => extractEntities(text).entities;

describe("extractEntities", () => {
  it("finds capitalised multi-word phrases", () => {
    expect(names("I met Alice Smith at the Golden Gate Bridge yesterday.")).toEqual([
      "Alice Smith",
      "Golden Gate Bridge",
    ]);
  });

  it("ignores single capitalised words", () => {
    expect(names("Alice went to Paris.")).toEqual([]);
  });

  it("finds double, single and curly quoted strings", () => {
    expect(
      names(`The project is called "engram" and the codename 'blue fox' and \u201cDelta\u201d.`),
    ).toEqual(["engram", "blue fox", "Delta"]);
  });

  it("does not treat possessives and contractions as quotes", () => {
    expect(names("Bob's car isn't Alice's bike")).toEqual([]);
  });

  it("does not split a quoted phrase into capitalised sub-phrases", () => {
    expect(names('We read "The Pragmatic Programmer" twice.')).toEqual(["The Pragmatic Programmer"]);
  });

  it("finds both sides of X aka Y", () => {
    expect(names("Robert Paulson aka Bob likes soap")).toEqual(["Robert Paulson", "Bob"]);
    expect(names("Hi Robert aka Bob, how are you?")).toEqual(["Robert", "Bob"]);
  });

  it("drops sentence-initial heading phrases but keeps real names", () => {
    expect(names("Current Status: done. New York is big.")).toEqual(["New York"]);
    expect(names("The meeting with Current Status team")).toEqual(["Current Status"]);
  });

  it("strips trailing possessives and deduplicates by key, keeping the first spelling", () => {
    expect(names('Alice Smith\'s cat met alice smith and "Alice Smith".')).toEqual(["Alice Smith"]);
  });

  it("returns entities in order of appearance", () => {
    expect(names('"zeta" before Alpha Beta')).toEqual(["zeta", "Alpha Beta"]);
  });

  it("handles non-ASCII capitalised names", () => {
    expect(names("We visited Ärzte Ohne Grenzen.")).toEqual(["Ärzte Ohne Grenzen"]);
  });

  it("returns nothing for empty text", () => {
    expect(extractEntities("")).toEqual({ entities: [], aliases: [] });
  });
});

describe("parseAliases", () => {
  it("parses aka, a.k.a. and also known as", () => {
    expect(parseAliases("Robert aka Bob").map(({ name, alias }) => [name, alias])).toEqual([
      ["Robert", "Bob"],
    ]);
    expect(parseAliases("William a.k.a. Bill").map(({ name, alias }) => [name, alias])).toEqual([
      ["William", "Bill"],
    ]);
    expect(
      parseAliases("Ludwig van Beethoven, also known as The Maestro").map(({ name, alias }) => [name, alias]),
    ).toEqual([["Ludwig van Beethoven", "The Maestro"]]);
  });

  it("accepts bare lowercase identifiers", () => {
    expect(parseAliases("we use postgres aka pg here").map(({ name, alias }) => [name, alias])).toEqual([
      ["postgres", "pg"],
    ]);
  });

  it("reports where each term starts", () => {
    const [pair] = parseAliases("Hi Robert aka Bob");
    expect(pair?.nameStart).toBe(3);
    expect(pair?.aliasStart).toBe(14);
  });

  it("finds nothing without a connective", () => {
    expect(parseAliases("Robert and Bob")).toEqual([]);
  });
});

describe("entity names", () => {
  it("clean whitespace, edge punctuation and possessives", () => {
    expect(cleanEntityName("  Alice \n Smith's, ")).toBe("Alice Smith");
    expect(cleanEntityName("(Acme)")).toBe("Acme");
  });

  it("reject implausible names", () => {
    expect(cleanEntityName("")).toBeUndefined();
    expect(cleanEntityName("!!!")).toBeUndefined();
    expect(cleanEntityName("x")).toBeUndefined();
    expect(cleanEntityName("a".repeat(81))).toBeUndefined();
    expect(cleanEntityName("one two three four five six seven eight nine")).toBeUndefined();
    expect(cleanEntityName("X")).toBe("X");
  });

  it("key case, dashes and underscores away", () => {
    expect(entityKey("Open-AI")).toBe("open ai");
    expect(entityKey("OPEN_AI")).toBe("open ai");
    expect(entityKey(" open   ai ")).toBe("open ai");
  });
});
