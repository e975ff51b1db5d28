/**
 * The runtime view of what a session is about, kept beside its buffer: the current task guessed from
 * user requests, open loops, constraints and decisions, plus the counters `shouldCompress` compares
 * against. Durable parts are promoted into {@link SessionStateRecord} before a commit or a save.
 */
export interface SessionWindowState {
  activeTask: string;
  uncertainties: string[];
  openLoops: string[];
  confirmedConstraints: string[];
  recentDecisions: string[];
  /** Turn count when the window was last compressed; `shouldCompress` measures from here. */
  turnCountAtLastCompress: number;
  tokenCountAtLastCompress: number;
  /** Turn count when durable session state was last synced into the window. */
  sessionStateSyncTurnCount: number;
  /** Epoch ms of the last access through the manager; idle eviction reads it. */
  lastAccessedAt: number;
}

export function emptyWindowState(lastAccessedAt = 0): SessionWindowState {
  return {
    activeTask: "",
    uncertainties: [],
    openLoops: [],
    confirmedConstraints: [],
    recentDecisions: [],
    turnCountAtLastCompress: 0,
    tokenCountAtLastCompress: 0,
    sessionStateSyncTurnCount: 0,
    lastAccessedAt,
  };
}

export function cloneWindowState(state: SessionWindowState): SessionWindowState {
  return {
    ...state,
    uncertainties: [...state.uncertainties],
    openLoops: [...state.openLoops],
    confirmedConstraints: [...state.confirmedConstraints],
    recentDecisions: [...state.recentDecisions],
  };
}

const ACTION_WORDS = ["help", "need", "want", "please", "can you", "could you"];
const TASK_MAX_CHARS = 200;

/**
 * The task a user message asks for, or `undefined`: a request phrased with an action word ("please",
 * "can you", ...) becomes the active task, capped at 200 characters. A heuristic on purpose — an
 * LLM-backed compressor refines it; this keeps the no-model default useful.
 */
export function detectTaskCandidate(content: string): string | undefined {
  const candidate = content.trim().slice(0, TASK_MAX_CHARS);
  if (!candidate) return undefined;
  const lower = candidate.toLowerCase();
  return ACTION_WORDS.some((word) => lower.includes(word)) ? candidate : undefined;
}

/** Rebuilds a window state from untrusted persisted JSON, defaulting anything missing or mistyped. */
export function windowStateFromJson(value: unknown, lastAccessedAt: number): SessionWindowState {
  const state = emptyWindowState(lastAccessedAt);
  if (typeof value !== "object" || value === null) return state;
  const record = value as Record<string, unknown>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
  const count = (v: unknown): number =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0;
  if (typeof record.activeTask === "string") state.activeTask = record.activeTask;
  state.uncertainties = strings(record.uncertainties);
  state.openLoops = strings(record.openLoops);
  state.confirmedConstraints = strings(record.confirmedConstraints);
  state.recentDecisions = strings(record.recentDecisions);
  state.turnCountAtLastCompress = count(record.turnCountAtLastCompress);
  state.tokenCountAtLastCompress = count(record.tokenCountAtLastCompress);
  state.sessionStateSyncTurnCount = count(record.sessionStateSyncTurnCount);
  return state;
}
