import { cleanEntityName, entityKey } from "./entity-name.js";
import { type AliasPair, parseAliases } from "./parse-aliases.js";

/** What one text names: entities in first-seen order (aliases included) and the alias pairs it declares. */
export interface ExtractedEntities {
  readonly entities: string[];
  readonly aliases: AliasPair[];
}

const QUOTE_PATTERNS: readonly RegExp[] = [
  /(?<![\p{L}\p{N}_])"([^"\r\n]+)"(?![\p{L}\p{N}_])/gu,
  // Not after a letter: keeps possessives and contractions ("Bob's", "don't") from opening a quote.
  /(?<![\p{L}\p{N}_])'([^'\r\n]+)'(?![\p{L}\p{N}_])/gu,
  /\u201c([^\u201d\r\n]+)\u201d/gu,
  /\u2018([^\u2019\r\n]+)\u2019/gu,
];

const CAPITALISED_PHRASE = /(?<![\p{L}\p{N}])(\p{Lu}\p{Ll}+(?:[ \t]+\p{Lu}\p{Ll}+)+)(?![\p{L}\p{N}])/gu;

// Heading and status words: a sentence-initial phrase made only of these ("Current Status", "New Task")
// is a label, not a name. Names like "New York" survive because "york" is not in the list.
const LOW_SIGNAL_WORDS = new Set([
  "active",
  "assistant",
  "concept",
  "configuration",
  "confirmed",
  "current",
  "decision",
  "default",
  "detail",
  "details",
  "existing",
  "fact",
  "general",
  "important",
  "information",
  "mapping",
  "memory",
  "new",
  "note",
  "previous",
  "project",
  "recent",
  "session",
  "setting",
  "status",
  "summary",
  "system",
  "task",
  "user",
  "workflow",
]);

function isSentenceStart(text: string, start: number): boolean {
  let i = start - 1;
  while (i >= 0 && /\s/u.test(text[i]!)) {
    if (text[i] === "\n") return true;
    i--;
  }
  return i < 0 || ".!?".includes(text[i]!);
}

function isLowSignal(name: string): boolean {
  const words = name.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) return false;
  if (words[0] === "no" || words[0] === "not") return true;
  return words.every((word) => LOW_SIGNAL_WORDS.has(word));
}

interface Candidate {
  readonly start: number;
  /** Lower wins when two extractors find a span at the same offset: quoted, then alias, then implicit. */
  readonly priority: 0 | 1 | 2;
  readonly raw: string;
}

/**
 * Precision-oriented entity extraction: quoted strings, both sides of "X aka Y", and capitalised
 * multi-word phrases that are not inside a quote. Sentence-initial phrases made only of heading words
 * are dropped. Names are deduplicated by {@link entityKey}, keeping the first spelling seen.
 */
export function extractEntities(text: string): ExtractedEntities {
  const candidates: Candidate[] = [];
  const quotedSpans: Array<readonly [number, number]> = [];
  for (const pattern of QUOTE_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const inner = match[1] ?? "";
      const start = match.index + 1;
      quotedSpans.push([start, start + inner.length]);
      candidates.push({ start, priority: 0, raw: inner });
    }
  }
  const aliases = parseAliases(text);
  const aliasSpans: Array<readonly [number, number]> = [];
  for (const pair of aliases) {
    candidates.push({ start: pair.nameStart, priority: 1, raw: pair.name });
    candidates.push({ start: pair.aliasStart, priority: 1, raw: pair.alias });
    aliasSpans.push([pair.nameStart, pair.aliasStart + pair.alias.length]);
  }
  for (const match of text.matchAll(CAPITALISED_PHRASE)) {
    const raw = match[1] ?? "";
    const start = match.index;
    const end = start + raw.length;
    if (quotedSpans.some(([from, to]) => from <= start && end <= to)) continue;
    // "Hi Robert aka Bob": the alias parser already chose the name; a phrase overlapping it is noise.
    if (aliasSpans.some(([from, to]) => start < to && from < end)) continue;
    if (isSentenceStart(text, start) && isLowSignal(raw)) continue;
    candidates.push({ start, priority: 2, raw });
  }
  candidates.sort((a, b) => a.start - b.start || a.priority - b.priority);

  const seen = new Set<string>();
  const entities: string[] = [];
  for (const candidate of candidates) {
    const name = cleanEntityName(candidate.raw);
    if (!name) continue;
    const key = entityKey(name);
    if (seen.has(key)) continue;
    seen.add(key);
    entities.push(name);
  }
  return { entities, aliases };
}
