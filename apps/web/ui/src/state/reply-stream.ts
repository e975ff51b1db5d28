/**
 * The state of one streamed reply, as a pure reducer: the view never flickers because every change
 * goes through here. `waiting` (typing indicator) lasts until the first token; a finished reply stays
 * on screen (`done`) until the saved transcript replaces it; a stream cut off mid-reply keeps its text
 * and becomes `interrupted`; a turn the server ended with an error becomes `failed`.
 */
export interface ToolLine {
  readonly id: string;
  readonly name: string;
  readonly args?: string;
  readonly result?: unknown;
}
export interface Recall {
  readonly provider: string;
  readonly text: string;
}
export interface StreamFailure {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type ReplyPhase = "idle" | "waiting" | "streaming" | "done" | "interrupted" | "failed";

export interface ReplyState {
  readonly phase: ReplyPhase;
  readonly streamId: string | null;
  readonly text: string;
  readonly tools: readonly ToolLine[];
  readonly recalls: readonly Recall[] | null;
  readonly failure: StreamFailure | null;
  readonly startedAt: number;
}

export type ReplyEvent =
  | { type: "start"; streamId: string; at: number }
  | { type: "token"; text: string }
  | { type: "tool"; tool: ToolLine }
  | { type: "memory"; recalls: Recall[] }
  | { type: "done" }
  | { type: "error"; failure: StreamFailure }
  /** The connection to the stream broke without a `done` or `error` event. */
  | { type: "broken" }
  /** The saved transcript now holds the reply: the live copy can go. */
  | { type: "settled" };

export const IDLE_REPLY: ReplyState = {
  phase: "idle",
  streamId: null,
  text: "",
  tools: [],
  recalls: null,
  failure: null,
  startedAt: 0,
};

const LIVE: ReadonlySet<ReplyPhase> = new Set(["waiting", "streaming"]);

export function replyReducer(state: ReplyState, event: ReplyEvent): ReplyState {
  switch (event.type) {
    case "start":
      return { ...IDLE_REPLY, phase: "waiting", streamId: event.streamId, startedAt: event.at };
    case "token":
      if (!LIVE.has(state.phase) || event.text === "") return state;
      return { ...state, phase: "streaming", text: state.text + event.text };
    case "tool":
      if (!LIVE.has(state.phase)) return state;
      return { ...state, tools: [...state.tools.filter((t) => t.id !== event.tool.id), event.tool] };
    case "memory":
      if (!LIVE.has(state.phase)) return state;
      return { ...state, recalls: event.recalls };
    case "done":
      return LIVE.has(state.phase) ? { ...state, phase: "done" } : state;
    case "error":
      return LIVE.has(state.phase) ? { ...state, phase: "failed", failure: event.failure } : state;
    case "broken":
      return LIVE.has(state.phase) ? { ...state, phase: "interrupted" } : state;
    case "settled":
      // Only a finished reply is replaced by the saved one; an interrupted or failed one stays visible.
      return state.phase === "done" ? { ...IDLE_REPLY, recalls: state.recalls } : state;
  }
}

/** Whether a reply is being produced (the composer's Send is disabled and Stop is offered). */
export function isLive(state: ReplyState): boolean {
  return LIVE.has(state.phase);
}
