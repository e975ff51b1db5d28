import type { SessionMessage } from "./session-message.js";

export interface ExtractInput {
  readonly sessionId: string;
  readonly messages: readonly SessionMessage[];
  /** What earlier extractions of this session produced, so an extractor can avoid duplicates. */
  readonly summary: string;
}

export interface ExtractedMemory {
  /** What happened to it: `add`, `update`, `skip`, ... (extractors may define more). */
  readonly action: string;
  /** What the memory says, or where it was written. */
  readonly target: string;
  readonly sourceMessageId: string;
}

export interface ExtractionResult {
  readonly memories: readonly ExtractedMemory[];
}

/**
 * Pulls durable memories out of messages not yet extracted and, when backed by a memory service,
 * writes them. Throwing means nothing of this batch counts as extracted: the manager rewinds its
 * watermark so the batch is offered again.
 */
export interface MemoryExtractor {
  extract(input: ExtractInput): Promise<ExtractionResult>;
}

const PATTERNS: readonly RegExp[] = [
  /\bmy name is\b/i,
  /\bi (?:prefer|like|love|hate|dislike|use|work|live)\b/i,
  /\b(?:always|never)\b/i,
  /\bremember\b/i,
  /\bcall me\b/i,
];

/**
 * The no-network default: a user sentence stating a preference, identity or standing rule
 * ("I prefer…", "my name is…", "always…", "remember…") becomes an `add`, unless the summary already
 * lists it. It writes nothing anywhere; hosts plug in a real extractor to persist memories.
 */
export class DeterministicMemoryExtractor implements MemoryExtractor {
  async extract(input: ExtractInput): Promise<ExtractionResult> {
    const memories: ExtractedMemory[] = [];
    const seen = new Set<string>();
    for (const message of input.messages) {
      if (message.role !== "user") continue;
      for (const sentence of message.content.split(/(?<=[.!?])\s+|\n+/)) {
        const target = sentence.trim().slice(0, 200);
        if (!target || !PATTERNS.some((pattern) => pattern.test(target))) continue;
        if (seen.has(target) || input.summary.includes(target)) continue;
        seen.add(target);
        memories.push({ action: "add", target, sourceMessageId: message.id });
      }
    }
    return { memories };
  }
}
