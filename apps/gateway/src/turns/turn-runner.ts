import type { CommittableAgent, SessionSource, TranscriptMessage } from "@engram/core";

/** One turn's input: the session it runs in and the user's text (already persisted). */
export interface TurnInput {
  readonly sessionId: string;
  readonly sessionKey: string;
  readonly source: SessionSource;
  readonly text: string;
  /** The session's active transcript before this turn's user message. */
  readonly history: readonly TranscriptMessage[];
}

export interface TurnOutput {
  readonly reply: string;
}

/**
 * What runs the model for a turn. The gateway persists messages and records completed turns; the
 * runner only answers. Kept this small so `@engram/agent`'s `Agent` can be slotted in behind it.
 *
 * Guarantees an implementer must keep: `runTurn` is never called twice at once for one session key
 * (the gateway serialises turns per key), so a runner may keep per-session state without locks.
 */
export interface TurnRunner {
  runTurn(input: TurnInput): Promise<TurnOutput>;
  /** The agent whose memory a session's completed turns are committed with (at session boundaries). */
  agentFor(sessionId: string): CommittableAgent;
  /** Sessions with a live agent in this runner's cache (metrics). */
  readonly cachedAgents: number;
  /** Tells the memory layer the key moved to `newSessionId` (seed 003 `on_session_switch`). */
  onSessionSwitch?(
    newSessionId: string,
    props: { readonly parentSessionId: string | null; readonly reset: boolean; readonly reason: string },
  ): Promise<void> | void;
  /** Forget a session's agent (after a reset); its memory must have been committed first. */
  evict(sessionId: string): void;
}
