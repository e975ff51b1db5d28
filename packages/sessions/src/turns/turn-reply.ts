import type { AutoResetInfo } from "../routing/session-router.js";

/** What one inbound message (or command) got back from the runtime. */
export interface TurnReply {
  /** The session the message is stored in (for a duplicate: where the original was stored). */
  readonly sessionId: string;
  readonly sessionKey: string;
  /**
   * The answer; `null` when nothing answered: a turn stopped by `/stop`, or a duplicate whose
   * original has no reply (see `duplicate`).
   */
  readonly reply: string | null;
  /**
   * The message id was delivered before on this session key: nothing was stored or run again, and
   * `reply` is the original turn's reply. A retry of a turn still running waits for it (at most
   * `duplicateWaitMs`); `reply` is `null` only when the original ended without one (stopped, failed,
   * or its process died before answering; a restart continuation may still answer it, and a later
   * retry then gets that answer) or, with `pending`, when the wait ran out first.
   */
  readonly duplicate?: true;
  /** A duplicate whose original turn was still running when the wait for it ended: ask again later. */
  readonly pending?: true;
  /** The turn (for a duplicate: the original) was interrupted by `/stop`: the user's message is kept, no reply was saved. */
  readonly stopped?: true;
  readonly autoReset?: AutoResetInfo;
}
