import { cleanEntityName } from "./entity-name.js";

/** `alias` names the same entity as `name` ("Robert aka Bob": name Robert, alias Bob). */
export interface AliasPair {
  readonly name: string;
  readonly alias: string;
  /** Offsets of the two terms in the source text. */
  readonly nameStart: number;
  readonly aliasStart: number;
}

// A title-case term: up to six capitalised tokens, allowing name particles ("Ludwig van Beethoven").
const TITLE_TOKEN = String.raw`\p{Lu}(?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?`;
const PARTICLE = "(?:van|von|de|del|der|da|di|la|le)";
const TITLE_TERM = String.raw`${TITLE_TOKEN}(?:\s+(?:${PARTICLE}\s+)?${TITLE_TOKEN}){0,5}`;
// A bare lowercase identifier ("postgres aka pg"): at least two characters.
const BARE_TERM = "[a-z][a-z0-9_.-]*[a-z0-9_]";
const TERM = `(?:${TITLE_TERM}|${BARE_TERM})`;
const CONNECTIVE = String.raw`(?:[Aa][Kk][Aa]|a\.k\.a\.?|[Aa]lso\s+[Kk]nown\s+[Aa]s)`;
const AKA = new RegExp(String.raw`(?<![\p{L}\p{N}])(${TERM})\s*,?\s+${CONNECTIVE}\s+(${TERM})`, "gu");

// Capitalised only because they open a sentence: "Hi Robert aka Bob" names Robert, not "Hi Robert".
const LEADING_FILLERS = new Set([
  "hi",
  "hello",
  "hey",
  "dear",
  "then",
  "so",
  "and",
  "but",
  "also",
  "yesterday",
  "today",
  "tomorrow",
  "my",
  "our",
  "your",
  "his",
  "her",
  "their",
  "when",
  "while",
  "if",
  "because",
  "maybe",
  "yes",
  "no",
  "ok",
  "meet",
  "met",
  "ask",
  "tell",
  "call",
]);

/** Drops leading filler words from a multi-word term; returns how many characters were dropped. */
function stripFillers(term: string): number {
  let dropped = 0;
  for (;;) {
    const match = /^(\S+)\s+(?=\S)/u.exec(term.slice(dropped));
    if (!match || !LEADING_FILLERS.has(match[1]!.toLowerCase())) return dropped;
    dropped += match[0].length;
  }
}

/** Every "X aka Y" / "X also known as Y" / "X a.k.a. Y" in `text`, as cleaned name/alias pairs. */
export function parseAliases(text: string): AliasPair[] {
  const pairs: AliasPair[] = [];
  for (const match of text.matchAll(AKA)) {
    const [, fullName = "", fullAlias = ""] = match;
    const nameSkip = stripFillers(fullName);
    const aliasSkip = stripFillers(fullAlias);
    const name = cleanEntityName(fullName.slice(nameSkip));
    const alias = cleanEntityName(fullAlias.slice(aliasSkip));
    if (!name || !alias) continue;
    const nameStart = match.index + nameSkip;
    const aliasStart = match.index + match[0].length - fullAlias.length + aliasSkip;
    pairs.push({ name, alias, nameStart, aliasStart });
  }
  return pairs;
}
