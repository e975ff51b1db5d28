import { type ChatMessage, sanitizeContext } from "@engram/core";
import { type Compressor, type CompressProps, SUMMARY_LABEL, splitForCompression } from "./compressor.js";

export interface SummaryCompressorProps {
  /** Turns kept verbatim at the end. Default 2. */
  keepLastTurns?: number;
  /** Longest quote of one message in the summary, in characters. Default 200. */
  maxQuoteChars?: number;
}

function quote(text: string, max: number): string {
  const flat = sanitizeContext(text).replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * The default compressor: deterministic and offline. Older turns become one summary message quoting
 * each user and assistant message (truncated) plus what providers asked to keep; the last turns stay.
 */
export class SummaryCompressor implements Compressor {
  readonly #keep: number;
  readonly #max: number;

  constructor(props: SummaryCompressorProps = {}) {
    this.#keep = props.keepLastTurns ?? 2;
    this.#max = props.maxQuoteChars ?? 200;
  }

  wouldCompress(history: readonly ChatMessage[]): boolean {
    return splitForCompression(history, this.#keep).older.length > 0;
  }

  async compress(history: readonly ChatMessage[], props: CompressProps): Promise<ChatMessage[]> {
    const { older, recent } = splitForCompression(history, this.#keep);
    if (older.length === 0) return [...history];
    const carried = older.filter((m) => m.role === "system");
    const lines = older.flatMap((m) => {
      if (m.role !== "user" && m.role !== "assistant") return [];
      const calls = (m.toolCalls ?? []).map((c) => c.name);
      const text = quote(m.content, this.#max);
      if (text === "" && calls.length === 0) return [];
      return [`- ${m.role}: ${text}${calls.length > 0 ? ` (called ${calls.join(", ")})` : ""}`];
    });
    const note = quote(props.providerNote, 4 * this.#max);
    const summary = [SUMMARY_LABEL, ...lines, ...(note === "" ? [] : ["", `Memory notes: ${note}`])].join(
      "\n",
    );
    return [...carried, { role: "user", content: summary }, ...recent];
  }
}
