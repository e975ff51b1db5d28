/** Longest entity name kept, in characters and in words: longer spans are sentences, not names. */
export const MAX_ENTITY_CHARS = 80;
export const MAX_ENTITY_WORDS = 8;

const EDGE_JUNK = /^[\s,;:!?()[\]{}]+|[\s,;:!?()[\]{}]+$/gu;
const POSSESSIVE = /['\u2019]s$/iu;

/**
 * Normalises a candidate name (NFKC, single spaces, no edge punctuation, no trailing possessive) and
 * returns `undefined` when it cannot be a name: empty, too long, no letter or digit, or a single
 * lowercase ASCII character.
 */
export function cleanEntityName(raw: string): string | undefined {
  const name = raw
    .normalize("NFKC")
    .replace(/\s+/gu, " ")
    .replace(EDGE_JUNK, "")
    .replace(POSSESSIVE, "")
    .trim();
  if (!name || name.length > MAX_ENTITY_CHARS) return undefined;
  if (name.split(" ").length > MAX_ENTITY_WORDS) return undefined;
  const alnum = name.match(/[\p{L}\p{N}]/gu);
  if (!alnum) return undefined;
  if (alnum.length === 1 && /^[a-z0-9]$/.test(alnum[0]!)) return undefined;
  return name;
}

/**
 * The identity of an entity name: case-folded, with runs of spaces, `-` and `_` collapsed to one space.
 * "Open-AI", "open ai" and "OPEN_AI" are one entity; lookups and aliases compare keys, never raw names.
 */
export function entityKey(name: string): string {
  return name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[-_\s]+/gu, " ")
    .trim();
}
