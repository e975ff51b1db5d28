import { createHash } from "node:crypto";

/** Where a user's memories live: `viking://user/<user>/memories`. */
export function memoryRoot(user: string): string {
  return `viking://user/${user}/memories`;
}

/** Expands the `viking://~/` home alias and drops trailing slashes. */
export function normalizeUri(uri: string, user: string): string {
  const expanded = uri.startsWith("viking://~/")
    ? `viking://user/${user}/${uri.slice("viking://~/".length)}`
    : uri;
  return expanded.replace(/\/+$/, "");
}

/** The deterministic extractor's sentence -> OpenViking memory category. */
export function categoryOf(text: string): string {
  if (/\b(?:my name is|call me)\b/i.test(text)) return "profile";
  if (/\b(?:prefer|like|love|hate|dislike|always|never)\b/i.test(text)) return "preferences";
  return "events";
}

/** Same text, same file: re-extracting a sentence never creates a second memory. */
export function memoryUri(user: string, category: string, content: string): string {
  const id = createHash("sha256").update(content).digest("hex").slice(0, 12);
  return `${memoryRoot(user)}/${category}/mem_${id}.md`;
}

const STOPWORDS = new Set([
  "the",
  "and",
  "for",
  "are",
  "was",
  "what",
  "which",
  "who",
  "how",
  "does",
  "did",
  "you",
  "your",
  "with",
  "that",
  "this",
  "about",
  "do",
  "is",
  "my",
  "me",
  "i",
  "a",
  "an",
  "of",
  "to",
  "in",
]);

export function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((t) => t.length > 1 && !STOPWORDS.has(t));
}

/**
 * A lexical stand-in for OpenViking's vector score, in [0, 1]: the share of query terms found in the
 * memory (a term matches a word it prefixes or that prefixes it, so "prefer" finds "prefers").
 */
export function lexicalScore(query: string, text: string): number {
  const wanted = [...new Set(tokens(query))];
  if (wanted.length === 0) return 0;
  const have = tokens(text);
  const hits = wanted.filter((w) =>
    have.some((h) => (h.length >= 4 && w.length >= 4 ? h.startsWith(w) || w.startsWith(h) : h === w)),
  );
  return hits.length / wanted.length;
}
