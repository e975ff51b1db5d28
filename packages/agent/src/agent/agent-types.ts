import type { ChatMessage, ToolCall, ToolCallResult } from "@engram/core";
import type { TokenUsage } from "../model/chat-model.js";

/** One recalled block, per provider, for a UI memory panel. */
export interface MemoryRecall {
  provider: string;
  text: string;
}

/**
 * A rotation to a child session. The host must persist it (end the parent with `endReason`, create the
 * child with `parentSessionId` and `messages` as its starting history) when its port is called.
 */
export interface SessionRotation {
  parentSessionId: string;
  sessionId: string;
  endReason: "compression";
  /** The compressed history the child session starts with. */
  messages: ChatMessage[];
}

/** Why a turn ended. Only `completed` turns are synced to memory. */
export type TurnStopReason = "completed" | "aborted" | "model_error";

/** What happened during a turn, in order, for streaming to a client (SSE). */
export type AgentEvent =
  | { type: "turn_start"; sessionId: string; turnNumber: number }
  | { type: "session_rotated"; rotation: SessionRotation }
  | { type: "memory_recall"; recalls: MemoryRecall[] }
  | { type: "text"; delta: string }
  | { type: "tool_call"; call: ToolCall }
  | { type: "tool_result"; callId: string; name: string; result: ToolCallResult }
  | { type: "usage"; usage: TokenUsage }
  | { type: "turn_end"; completed: boolean; stopReason: TurnStopReason };

/** Options of one turn. */
export interface RunTurnOptions {
  /** Aborting interrupts the turn: the model call stops and nothing is synced to memory. */
  signal?: AbortSignal;
  /** Receives events as they happen; a throwing listener is logged and ignored. */
  onEvent?: (event: AgentEvent) => void;
  /**
   * Extra system context for this turn only (where the session runs, why it was reset). Appended to the
   * system prompt of this turn's model calls; never part of the returned messages or of memory.
   */
  systemNotes?: readonly string[];
}

/** What a turn produced. */
export interface TurnResult {
  /** Session the turn ran in (a child session when compression rotated before it). */
  sessionId: string;
  /**
   * Messages to append to the transcript of `sessionId`, in order: the user message (its original text,
   * never the recalled memory), assistant messages and tool results. After a rotation, append them to
   * `rotation.messages`.
   */
  messages: ChatMessage[];
  /** The final assistant text ("" when the turn did not complete). */
  reply: string;
  usage: TokenUsage;
  recalls: MemoryRecall[];
  completed: boolean;
  stopReason: TurnStopReason;
  /** The model error or abort reason of an interrupted turn. */
  error?: Error;
  /** Set when the history was compressed and the session rotated before this turn. */
  rotation?: SessionRotation;
}

/** Options of {@link Agent.switchSession}. */
export interface SwitchSessionOptions {
  /** Default: the session being left. */
  parentSessionId?: string;
  reset?: boolean;
  rewound?: boolean;
  reason: string;
}
