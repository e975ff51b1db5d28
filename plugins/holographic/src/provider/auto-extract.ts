/** A durable statement found in what the user said, with the category it is stored under. */
export interface ExtractedFact {
  readonly content: string;
  readonly category: "user_pref" | "project";
}

// First-person statements of a lasting preference or decision. Questions and hypotheticals
// ("would I prefer ...?", "if we decide ...") are excluded by the sentence filter below.
const PREFERENCE = [
  /\bI\s+(?:really\s+|strongly\s+|usually\s+|always\s+)?(?:prefer|like|love|hate|dislike|want|need|use|avoid)\b/i,
  /\bI\s+(?:always|never|usually)\b/i,
  /\bI(?:'m| am)\s+(?:a|an)\s+\w+/i,
  /\bmy\s+(?:favou?rite|preferred|usual|default)\b/i,
  /\b(?:please\s+)?(?:always|never)\s+(?:use|write|call|add|run|format|reply|answer)\b/i,
];
const DECISION = [
  /\b(?:we|I)\s+(?:have\s+)?(?:decided|agreed|chose|chosen|settled)\b/i,
  /\b(?:let's|let us)\s+(?:use|go\s+with|switch\s+to|stick\s+with|keep)\b/i,
  /\bwe(?:'ll| will)\s+(?:use|go\s+with|switch\s+to|stick\s+with)\b/i,
  /\bthe\s+decision\s+is\b/i,
];

const MIN_CHARS = 12;
const MAX_CHARS = 300;

/** Splits text into sentences (on `.`, `!`, `?` and line breaks). */
function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length >= MIN_CHARS && sentence.length <= MAX_CHARS);
}

/**
 * Preferences ("I prefer tabs over spaces") and decisions ("we decided to ship on Fridays") stated in
 * user messages, one fact per sentence. Questions and conditionals are skipped: "should I use tabs?"
 * states nothing. Pattern-based on purpose: it runs without a model, at session end only.
 */
export function extractDurableFacts(userMessages: readonly string[]): ExtractedFact[] {
  const facts: ExtractedFact[] = [];
  const seen = new Set<string>();
  for (const message of userMessages) {
    for (const sentence of sentences(message)) {
      if (sentence.endsWith("?") || /^(?:if|when|should|would|could|do|does|did|can)\b/i.test(sentence))
        continue;
      const category = DECISION.some((pattern) => pattern.test(sentence))
        ? "project"
        : PREFERENCE.some((pattern) => pattern.test(sentence))
          ? "user_pref"
          : undefined;
      if (!category || seen.has(sentence)) continue;
      seen.add(sentence);
      facts.push({ content: sentence, category });
    }
  }
  return facts;
}
