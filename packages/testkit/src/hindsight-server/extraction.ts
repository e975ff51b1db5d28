/**
 * Deterministic fact extraction standing in for Hindsight's LLM: every sentence of the retained text
 * becomes one fact, capitalised word runs become entities, ISO dates become the fact's occurrence.
 * Conversation content (a JSON array of `{role, content, timestamp?}` messages, as the provider sends
 * it) is read message by message, and an assistant's sentences are `experience`, others `world`.
 */

export interface ExtractedFact {
  readonly text: string;
  readonly factType: "world" | "experience";
  readonly entities: readonly string[];
  /** When the message carrying the fact was written (ISO), when it said. */
  readonly mentionedAt: string | undefined;
  readonly occurredStart: string | undefined;
  readonly occurredEnd: string | undefined;
}

interface Passage {
  readonly text: string;
  readonly role: string;
  readonly timestamp: string | undefined;
}

const SENTENCE_BREAK = /(?<=[.!?])\s+|\n+/;
const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b/;
const CAPITALISED_RUN = /\b[A-Z][\p{L}\p{N}]+(?:\s+[A-Z][\p{L}\p{N}]+)*/gu;
// Capitalised only because they open a sentence; never entities on their own.
const NOT_ENTITIES = new Set(
  "I A An The This That These Those It He She We They You My Our Your His Her Their What When Where Who Why How Yes No Ok Okay Hi Hello Thanks Sure Please And But Or So If Then Also".split(
    " ",
  ),
);

function passagesOf(content: string): Passage[] {
  const trimmed = content.trim();
  if (trimmed.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) {
        const passages: Passage[] = [];
        for (const entry of parsed) {
          if (typeof entry !== "object" || entry === null) continue;
          const { role, content: text, timestamp } = entry as Record<string, unknown>;
          if (typeof text !== "string") continue;
          passages.push({
            text,
            role: typeof role === "string" ? role : "user",
            timestamp: typeof timestamp === "string" ? timestamp : undefined,
          });
        }
        return passages;
      }
    } catch {
      // not JSON: plain text below
    }
  }
  return [{ text: content, role: "user", timestamp: undefined }];
}

/** Entity names found in `text`, lowercased and deduplicated, in order of first mention. */
export function extractEntities(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(CAPITALISED_RUN)) {
    const words = match[0].split(/\s+/).filter((word) => !NOT_ENTITIES.has(word));
    if (words.length === 0) continue;
    const name = words.join(" ").toLowerCase();
    if (!found.includes(name)) found.push(name);
  }
  return found;
}

/** Splits retained content into facts. Blank content yields none. */
export function extractFacts(content: string, fallbackTimestamp: string | undefined): ExtractedFact[] {
  const facts: ExtractedFact[] = [];
  for (const passage of passagesOf(content)) {
    for (const raw of passage.text.split(SENTENCE_BREAK)) {
      const text = raw.trim();
      if (text.length < 3) continue;
      const date = ISO_DATE.exec(text);
      const day = date ? `${date[1]}-${date[2]}-${date[3]}` : undefined;
      const validDay = day && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ? day : undefined;
      facts.push({
        text,
        factType: passage.role === "assistant" ? "experience" : "world",
        entities: extractEntities(text),
        mentionedAt: passage.timestamp ?? fallbackTimestamp,
        occurredStart: validDay ? `${validDay}T00:00:00.000Z` : undefined,
        occurredEnd: validDay ? `${validDay}T23:59:59.999Z` : undefined,
      });
    }
  }
  return facts;
}
