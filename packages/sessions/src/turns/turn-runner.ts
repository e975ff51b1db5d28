import type { AgentEvent, MemoryRecall } from "@engram/agent";
import type {
  ChatMessage,
  CommittableAgent,
  ModelOverride,
  SessionSource,
  TranscriptMessage,
} from "@engram/core";

/** One turn's input: the session it runs in and the user's text (already persisted). */
export interface TurnInput {
  readonly sessionId: string;
  readonly sessionKey: string;
  readonly source: SessionSource;
  readonly text: string;
  /** The session's active transcript before this turn's user message. */
  readonly history: readonly TranscriptMessage[];
  /**
   * Extra system context for this turn only (where the session runs, why it was reset). Shown to the
   * model, never persisted and never mirrored to memory.
   */
  readonly systemNotes?: readonly string[];
  /** Aborted by `/stop`: the runner stops the model and answers `completed: false`. */
  readonly signal?: AbortSignal;
  /** Streams what the agent does while the turn runs (tokens, tool calls, recalls): the web's SSE. */
  readonly onEvent?: (event: AgentEvent) => void;
  /** The session's `/model` override; absent means the gateway's default model. */
  readonly modelOverride?: ModelOverride;
  /**
   * Called once the turn completed, before `runTurn` resolves, with the agent that ran it still held
   * (never dropped meanwhile): the gateway saves the reply and records the completed turn there.
   */
  readonly onCompleted: (completed: CompletedTurn) => Promise<void>;
}

export interface CompletedTurn {
  readonly reply: string;
  /** The agent whose memory the turn went to; the coordinator commits it at the session's boundary. */
  readonly agent: CommittableAgent;
  /** What the turn added to the conversation: the user message, then tool calls and results, then the reply. */
  readonly messages?: readonly ChatMessage[];
}

export interface TurnOutput {
  /** The final reply; `""` when the turn did not complete. */
  readonly reply: string;
  /** False when the turn was interrupted (`/stop`): nothing of it may be saved or counted. */
  readonly completed: boolean;
  /** What memory recalled for the turn, per provider (runners without memory leave it out). */
  readonly recalls?: readonly MemoryRecall[];
}

/** What a compression rotation asks the gateway to persist before the agent moves on. */
export interface CompressionRotation {
  readonly parentSessionId: string;
  readonly sessionId: string;
  /** The child session's transcript: the summary and the kept tail. */
  readonly messages: readonly ChatMessage[];
}

export interface CompressProps {
  readonly sessionId: string;
  /** Where the session's messages come from (it picks the memory scope of an agent built for it). */
  readonly source: SessionSource;
  readonly history: readonly TranscriptMessage[];
  /** The child session's id. */
  readonly newSessionId: string;
  /** Persists the rotation (transcript lineage, routing); a throw cancels it. */
  readonly persist: (rotation: CompressionRotation) => Promise<void>;
}

/** How a key moved to another session (seed 003 `on_session_switch`). */
export interface SessionSwitchProps {
  readonly parentSessionId: string | null;
  /** Where the key's messages come from (it picks the memory scope of the new session's agent). */
  readonly source: SessionSource;
  /** `/new`, `/reset`, an expiry: providers flush per-session buffers. */
  readonly reset: boolean;
  /** `/undo`: the session's tail was rewound. */
  readonly rewound?: boolean;
  readonly reason: string;
}

/**
 * What runs the model for a turn. The gateway persists messages and records completed turns; the
 * runner only answers. Kept this small so `@engram/agent`'s `Agent` can be slotted in behind it.
 *
 * Guarantees an implementer must keep: `runTurn` is never called twice at once for one session key
 * (the gateway serialises turns per key), so a runner may keep per-session state without locks. A
 * turn that fails for any reason but `signal` throws; an aborted one resolves `completed: false`.
 */
export interface TurnRunner {
  runTurn(input: TurnInput): Promise<TurnOutput>;
  /** Sessions with a live agent in this runner's cache (metrics). */
  readonly cachedAgents: number;
  /** Tells the memory layer the key moved to `newSessionId` (seed 003 `on_session_switch`). */
  onSessionSwitch?(newSessionId: string, props: SessionSwitchProps): Promise<void> | void;
  /**
   * Compresses the session's history into a child session (`/compress`). Resolves false when there
   * was nothing to compress. The caller has committed the parent's memory already.
   */
  compress?(props: CompressProps): Promise<boolean>;
  /** Forget a session's agent (after a reset); its memory must have been committed first. */
  evict(sessionId: string): void;
  /**
   * An agent that commits a stored session's memory when the agent that ran its turns is gone (its
   * process died): each `commitMemorySession()` ends the session's memory with the transcript
   * `transcript()` reads at that moment. It runs no turn and holds nothing open between commits.
   * Runners without memory leave it out.
   */
  committerFor?(
    session: StoredSession,
    transcript: () => Promise<readonly TranscriptMessage[]>,
  ): CommittableAgent;
}

/** A session known only from the store (no live agent): its id and where its messages came from. */
export interface StoredSession {
  readonly sessionId: string;
  readonly source: SessionSource;
}
