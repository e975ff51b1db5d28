import type { SessionWindowState } from "./session-window-state.js";

/** What the session is trying to do and what stands in the way. */
export interface SessionTaskState {
  objective: string | null;
  blockers: string[];
}

export type SessionCommitmentStatus = "open" | "fulfilled" | "dropped";
/** `loop`: something promised or still to do; `constraint`: a rule agreed on; `decision`: a choice made. */
export type SessionCommitmentKind = "loop" | "constraint" | "decision";

export interface SessionCommitment {
  readonly content: string;
  readonly status: SessionCommitmentStatus;
  readonly kind: SessionCommitmentKind;
  readonly createdAt: number;
}

/**
 * The durable state of one session (seed 001 `SessionState`): task and commitments. Unlike the
 * message buffer it survives commits, eviction and restarts through the {@link SessionStateStore}.
 */
export interface SessionStateRecord {
  task: SessionTaskState;
  commitments: SessionCommitment[];
}

export function emptySessionState(): SessionStateRecord {
  return { task: { objective: null, blockers: [] }, commitments: [] };
}

export function cloneSessionState(state: SessionStateRecord): SessionStateRecord {
  return {
    task: { objective: state.task.objective, blockers: [...state.task.blockers] },
    commitments: [...state.commitments],
  };
}

export function hasSessionState(state: SessionStateRecord): boolean {
  return Boolean(state.task.objective) || state.task.blockers.length > 0 || state.commitments.length > 0;
}

const WINDOW_LISTS = [
  ["openLoops", "open", "loop"],
  ["confirmedConstraints", "fulfilled", "constraint"],
  ["recentDecisions", "fulfilled", "decision"],
] as const;

/**
 * Promotes what the runtime window learned into the durable record: the active task becomes the
 * objective and uncertainties the blockers only when the record has none (durable state written on
 * purpose wins over a heuristic), and every open loop, constraint and decision not yet recorded is
 * added once. Mutates `state`; returns whether anything changed.
 */
export function promoteWindowState(
  state: SessionStateRecord,
  window: SessionWindowState,
  now: number,
): boolean {
  let changed = false;
  if (!state.task.objective && window.activeTask) {
    state.task.objective = window.activeTask;
    changed = true;
  }
  if (state.task.blockers.length === 0 && window.uncertainties.length > 0) {
    state.task.blockers = [...window.uncertainties];
    changed = true;
  }
  const seen = new Set(state.commitments.map((c) => `${c.kind}\u0000${c.status}\u0000${c.content}`));
  for (const [field, status, kind] of WINDOW_LISTS) {
    for (const raw of window[field]) {
      const content = raw.trim();
      const key = `${kind}\u0000${status}\u0000${content}`;
      if (!content || seen.has(key)) continue;
      seen.add(key);
      state.commitments.push({ content, status, kind, createdAt: now });
      changed = true;
    }
  }
  return changed;
}

/**
 * The reverse bridge, used when a session is restored: durable task and commitments fill the window
 * so the next context and compression see them. Lists are merged without duplicates.
 */
export function applySessionStateToWindow(
  state: SessionStateRecord,
  window: SessionWindowState,
  turnCount: number,
): void {
  if (state.task.objective && !window.activeTask) window.activeTask = state.task.objective;
  const merge = (target: string[], items: readonly string[]) => {
    for (const item of items) if (!target.includes(item)) target.push(item);
  };
  merge(window.uncertainties, state.task.blockers);
  for (const [field, status, kind] of WINDOW_LISTS) {
    merge(
      window[field],
      state.commitments.filter((c) => c.kind === kind && c.status === status).map((c) => c.content),
    );
  }
  window.sessionStateSyncTurnCount = turnCount;
}

const STATUSES: ReadonlySet<string> = new Set(["open", "fulfilled", "dropped"]);
const KINDS: ReadonlySet<string> = new Set(["loop", "constraint", "decision"]);

/** Rebuilds a record from untrusted persisted JSON, dropping malformed commitments. */
export function sessionStateFromJson(value: unknown): SessionStateRecord {
  const state = emptySessionState();
  if (typeof value !== "object" || value === null) return state;
  const record = value as { task?: unknown; commitments?: unknown };
  if (typeof record.task === "object" && record.task !== null) {
    const task = record.task as { objective?: unknown; blockers?: unknown };
    if (typeof task.objective === "string" && task.objective) state.task.objective = task.objective;
    if (Array.isArray(task.blockers))
      state.task.blockers = task.blockers.filter((b) => typeof b === "string");
  }
  if (Array.isArray(record.commitments)) {
    for (const item of record.commitments) {
      if (typeof item !== "object" || item === null) continue;
      const c = item as Record<string, unknown>;
      if (typeof c.content !== "string" || !STATUSES.has(String(c.status)) || !KINDS.has(String(c.kind)))
        continue;
      state.commitments.push({
        content: c.content,
        status: c.status as SessionCommitmentStatus,
        kind: c.kind as SessionCommitmentKind,
        createdAt: typeof c.createdAt === "number" && Number.isFinite(c.createdAt) ? c.createdAt : 0,
      });
    }
  }
  return state;
}
