import { type ChatMessage, sanitizeContext } from "@engram/core";
import type { ChatModel } from "../model/chat-model.js";
import { type Compressor, type CompressProps, SUMMARY_LABEL, splitForCompression } from "./compressor.js";

export interface ModelCompressorProps {
  model: ChatModel;
  /** Turns kept verbatim at the end. Default 2. */
  keepLastTurns?: number;
  /** Instruction given to the model. */
  instruction?: string;
}

const DEFAULT_INSTRUCTION =
  "Summarise the conversation below for your own later use. Keep facts, decisions, open questions and " +
  "user preferences; drop pleasantries. Answer with the summary only.";

/** A compressor that asks the chat model for the summary of older turns. */
export class ModelCompressor implements Compressor {
  readonly #props: ModelCompressorProps;

  constructor(props: ModelCompressorProps) {
    this.#props = props;
  }

  wouldCompress(history: readonly ChatMessage[]): boolean {
    return splitForCompression(history, this.#props.keepLastTurns ?? 2).older.length > 0;
  }

  async compress(history: readonly ChatMessage[], props: CompressProps): Promise<ChatMessage[]> {
    const { older, recent } = splitForCompression(history, this.#props.keepLastTurns ?? 2);
    if (older.length === 0) return [...history];
    const transcript = older
      .filter((m) => m.role !== "system")
      .map((m) => `${m.role}: ${sanitizeContext(m.content)}`)
      .join("\n");
    const note = props.providerNote === "" ? "" : `\n\nNotes from memory providers:\n${props.providerNote}`;
    const answer = await this.#props.model.complete(
      {
        messages: [
          { role: "system", content: this.#props.instruction ?? DEFAULT_INSTRUCTION },
          { role: "user", content: `${transcript}${note}` },
        ],
      },
      props.signal ? { signal: props.signal } : {},
    );
    const summary = sanitizeContext(answer.text).trim();
    return [
      ...older.filter((m) => m.role === "system"),
      { role: "user", content: `${SUMMARY_LABEL}\n${summary}` },
      ...recent,
    ];
  }
}
