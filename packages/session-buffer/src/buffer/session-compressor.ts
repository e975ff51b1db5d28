import type { ArchivedMessage } from "../ports/archive-store.js";

export interface CompressInput {
  readonly sessionId: string;
  readonly messages: readonly ArchivedMessage[];
  /** Overview of the session's latest archive ("" when none): the result must carry it forward. */
  readonly previousOverview: string;
  readonly previousAbstract: string;
}

export interface CompressedSegment {
  /** Multi-line summary of everything so far, fused with the previous overview. */
  readonly overview: string;
  /** One line saying what the session is about. */
  readonly abstract: string;
}

/**
 * Turns a committed batch of messages into an overview and an abstract. Implementations may call a
 * model; the manager falls back to {@link DeterministicSessionCompressor} when one throws, so a model
 * outage never loses a commit.
 */
export interface SessionCompressor {
  compress(input: CompressInput): Promise<CompressedSegment>;
}

export interface DeterministicSessionCompressorProps {
  /** Longest overview kept (default 4000 characters); the oldest part is dropped first. */
  readonly maxOverviewChars?: number;
  /** Longest abstract (default 300 characters). */
  readonly maxAbstractChars?: number;
  /** Characters quoted per message line (default 160). */
  readonly maxLineChars?: number;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const end = flat.search(/[.!?](\s|$)/);
  return end === -1 ? flat : flat.slice(0, end + 1);
}

/** Keeps the tail of `text` within `max` characters, cut at a line boundary when possible. */
function keepTail(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = text.slice(text.length - max);
  const cut = tail.indexOf("\n");
  return cut === -1 ? tail : tail.slice(cut + 1);
}

/**
 * The no-network default: the overview appends one section per batch (its user requests and the
 * assistant's replies, one capped line each) to the previous overview, keeping the newest text within
 * the limit; the abstract chains the batch's first user request onto the previous abstract. Same
 * input, same output.
 */
export class DeterministicSessionCompressor implements SessionCompressor {
  readonly #maxOverview: number;
  readonly #maxAbstract: number;
  readonly #maxLine: number;

  constructor(props: DeterministicSessionCompressorProps = {}) {
    this.#maxOverview = props.maxOverviewChars ?? 4000;
    this.#maxAbstract = props.maxAbstractChars ?? 300;
    this.#maxLine = props.maxLineChars ?? 160;
  }

  async compress(input: CompressInput): Promise<CompressedSegment> {
    const turns = input.messages.filter((m) => m.role === "user").length;
    const lines = input.messages
      .filter((m) => m.content.trim() && (m.role === "user" || m.role === "assistant"))
      .map((m) => `- ${m.role}: ${oneLine(m.content, this.#maxLine)}`);
    const section = [`### ${input.messages.length} messages, ${turns} turns`, ...lines].join("\n");
    const overview = keepTail(
      input.previousOverview.trim() ? `${input.previousOverview.trim()}\n\n${section}` : section,
      this.#maxOverview,
    );
    const firstRequest = input.messages.find((m) => m.role === "user" && m.content.trim());
    const topic = firstRequest
      ? oneLine(firstSentence(firstRequest.content), 120)
      : `${input.messages.length} messages`;
    const chained = input.previousAbstract.trim() ? `${input.previousAbstract.trim()} | ${topic}` : topic;
    const abstract =
      chained.length <= this.#maxAbstract
        ? chained
        : `…${chained.slice(chained.length - this.#maxAbstract + 1)}`;
    return { overview, abstract };
  }
}
