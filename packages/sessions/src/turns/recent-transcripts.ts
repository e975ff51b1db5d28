import type { TranscriptMessage, TranscriptSessionStamp } from "@engram/core";

interface Held {
  readonly stamp: TranscriptSessionStamp;
  readonly messages: readonly TranscriptMessage[];
}

/**
 * The active transcripts of recently served sessions, so a turn need not read its whole history back.
 * A held transcript is served only while the session row still carries the stamp (`messageCount`,
 * `updatedAt`) it was held with: every write to a transcript (append, rewind, restore, replace)
 * changes the stamp, so a write by anyone else (another process, a command) makes it a miss.
 * Least recently used sessions beyond the cap are forgotten.
 */
export class RecentTranscripts {
  readonly #max: number;
  readonly #held = new Map<string, Held>();

  constructor(maxSessions: number) {
    this.#max = Math.max(0, Math.floor(maxSessions));
  }

  get size(): number {
    return this.#held.size;
  }

  /** The held transcript when `stamp` (as just read from the session row) matches, else `undefined`. */
  get(sessionId: string, stamp: TranscriptSessionStamp | undefined): TranscriptMessage[] | undefined {
    const held = this.#held.get(sessionId);
    if (!held || !stamp) return undefined;
    if (held.stamp.messageCount !== stamp.messageCount || held.stamp.updatedAt !== stamp.updatedAt) {
      this.#held.delete(sessionId);
      return undefined;
    }
    this.#held.delete(sessionId);
    this.#held.set(sessionId, held);
    return [...held.messages];
  }

  /** Holds `messages` as the session's transcript at `stamp` (what the write that made it returned). */
  set(sessionId: string, stamp: TranscriptSessionStamp, messages: readonly TranscriptMessage[]): void {
    if (this.#max === 0) return;
    this.#held.delete(sessionId);
    this.#held.set(sessionId, { stamp, messages });
    while (this.#held.size > this.#max) {
      const oldest = this.#held.keys().next().value;
      if (oldest === undefined) break;
      this.#held.delete(oldest);
    }
  }
}
