const EDGE_PUNCTUATION = /^[.,;:!?"'()[\]{}#@<>]+|[.,;:!?"'()[\]{}#@<>]+$/gu;
const CJK = /[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]/u;
const CJK_RUN = /[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]+/gu;

/** True when `text` contains a CJK ideograph (which has no spaces between words). */
export function hasCjk(text: string): boolean {
  return CJK.test(text);
}

/**
 * The token set Jaccard compares: lowercased words with edge punctuation stripped, split further on
 * `/` and `=`; CJK runs become character bigrams (a lone character stays a unigram) because CJK text
 * has no spaces to split on. No stemming.
 */
export function tokenSet(text: string, into: Set<string> = new Set()): Set<string> {
  if (!text) return into;
  for (const word of text.toLowerCase().split(/\s+/u)) {
    const cleaned = word.replace(EDGE_PUNCTUATION, "");
    if (!cleaned) continue;
    if (!CJK.test(cleaned)) {
      for (const part of cleaned.split(/[/=]/u)) if (part) into.add(part);
      continue;
    }
    for (const part of cleaned.replace(CJK_RUN, " ").split(/[\s/=]+/u)) if (part) into.add(part);
    for (const run of cleaned.match(CJK_RUN) ?? []) {
      if (run.length === 1) into.add(run);
      else for (let i = 0; i + 1 < run.length; i++) into.add(run.slice(i, i + 2));
    }
  }
  return into;
}
