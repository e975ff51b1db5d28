import type { ChatMessage } from "@engram/core";

/** What a compressor is told besides the history. */
export interface CompressProps {
  /** What memory providers asked to keep (`onPreCompress`), "" when nothing. */
  providerNote: string;
  signal?: AbortSignal;
}

/**
 * Shrinks a conversation history. Implementations must keep: the result never contains a
 * `<memory-context>` block; the most recent turns are kept verbatim, starting at a `user` message (so
 * no tool result is separated from the assistant message that called it); the input is not mutated.
 */
export interface Compressor {
  compress(history: readonly ChatMessage[], props: CompressProps): Promise<ChatMessage[]>;
  /**
   * Whether `compress` would shorten `history`. The agent asks first, so a history that is over budget
   * but has nothing older than the kept turns does not end the memory session on every turn.
   */
  wouldCompress?(history: readonly ChatMessage[]): boolean;
}

/** Label of the message that replaces compressed turns, so people and models know what it is. */
export const SUMMARY_LABEL = "[Summary of earlier conversation, compressed to save context]";

/**
 * Splits `history` into older messages and the last `keepLastTurns` turns (a turn starts at a `user`
 * message). `older` is empty when there is nothing to compress.
 */
export function splitForCompression(
  history: readonly ChatMessage[],
  keepLastTurns: number,
): { older: ChatMessage[]; recent: ChatMessage[] } {
  let seen = 0;
  let cut = -1;
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i]?.role !== "user") continue;
    seen++;
    if (seen === keepLastTurns) {
      cut = i;
      break;
    }
  }
  if (keepLastTurns <= 0) cut = history.length;
  if (cut <= 0) return { older: [], recent: [...history] };
  return { older: history.slice(0, cut), recent: history.slice(cut) };
}
