/** Short English function words that carry no retrieval signal (dropped from documents and queries). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    "a about above after again all am an and any are as at be because been before being between both but by " +
    "can could did do does doing don down during each few for from further had has have having he her here " +
    "hers herself him himself his how i if in into is it its itself just me more most my myself no nor not " +
    "now of off on once only or other our ours ourselves out over own same she should so some such than " +
    "that the their theirs them themselves then there these they this those through to too under until up " +
    "very was we were what when where which while who whom why will with would you your yours yourself yourselves"
  ).split(" "),
);

/**
 * A deliberately light English stemmer (plural, `-ed`, `-ing`): enough that "prefers" finds "prefer"
 * and "deployments" finds "deployment", cheap enough for every token of every fact. Applied to
 * documents and queries alike, so its imperfect stems still match each other.
 */
export function stem(word: string): string {
  const n = word.length;
  if (n <= 3) return word;
  if (word.endsWith("ies") && n > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith("sses")) return word.slice(0, -2);
  if (word.endsWith("ing") && n > 5) return word.slice(0, -3);
  if (word.endsWith("ed") && n > 4) return word.slice(0, -2);
  if (word.endsWith("s") && !word.endsWith("ss") && !word.endsWith("us") && !word.endsWith("is")) {
    return word.slice(0, -1);
  }
  return word;
}

const WORD = /[\p{L}\p{N}_]+/gu;

/** Full-text terms of `text` in order (with repeats, for term frequency): lowercased words, stopwords dropped, stemmed. */
export function fullTextTerms(text: string): string[] {
  const terms: string[] = [];
  for (const word of text.toLowerCase().match(WORD) ?? []) {
    if (STOPWORDS.has(word)) continue;
    terms.push(stem(word));
  }
  return terms;
}

/** BM25 parameters: term-frequency saturation and length normalisation. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** Inverse document frequency (BM25+ style, never negative). */
export function bm25Idf(documentFrequency: number, documentCount: number): number {
  return Math.log(1 + (documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

/** The BM25 contribution of one term to one document. */
export function bm25TermScore(
  termFrequency: number,
  idf: number,
  length: number,
  averageLength: number,
): number {
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / (averageLength || 1));
  return (idf * termFrequency * (BM25_K1 + 1)) / (termFrequency + norm);
}
