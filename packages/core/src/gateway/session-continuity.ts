import { evaluateReset, type ResetPolicy, type ResetReason, type UtcOffset } from "./reset-policy.js";

/** Default auto-continue freshness window: one hour. */
export const DEFAULT_RESUME_FRESHNESS_MS = 60 * 60 * 1000;

/**
 * Whether a session interrupted by a restart (marked resume-pending at `markedAt`) may still be
 * resumed at `now`: true while at most `windowMs` have passed. A non-positive window disables the gate
 * (always fresh). `markedAt` is when resume was marked, never bumped per message, so a session that
 * keeps receiving messages but never completes its recovery turn still goes stale.
 */
export function isResumeFresh(
  markedAt: number,
  now: number,
  windowMs: number = DEFAULT_RESUME_FRESHNESS_MS,
): boolean {
  if (!(windowMs > 0)) return true;
  return now - markedAt <= windowMs;
}

/** What the routing index knows about the session a key currently points at. */
export interface RoutedSessionState {
  /** Epoch ms of the last activity. */
  readonly updatedAt: number;
  /** Hard "start fresh next time" flag (set by /stop or stuck-loop escalation). */
  readonly suspended?: boolean;
  /** Interrupted by a restart; resume the same session if still fresh. */
  readonly resumePending?: boolean;
  /** Epoch ms when `resumePending` was set. */
  readonly lastResumeMarkedAt?: number | undefined;
  /** The transcript store reports the session ended (the index entry is stale). */
  readonly endedInStore?: boolean;
}

export interface RoutingDecisionProps {
  readonly state: RoutedSessionState;
  readonly policy: ResetPolicy;
  readonly now: number;
  readonly hasActiveBackgroundWork?: boolean;
  readonly resumeFreshnessMs?: number;
  readonly utcOffset?: UtcOffset;
}

export type AutoResetReason = ResetReason | "suspended" | "resume_pending_expired";

export type RoutingDecision =
  /** Keep routing to the current session (bump its activity time). */
  | { readonly action: "reuse" }
  /** The index entry points at an ended session: drop it, then try to recover the peer's latest live session or create one. */
  | { readonly action: "recover" }
  /** Start a new session and tell the user why. */
  | { readonly action: "reset"; readonly reason: AutoResetReason };

/**
 * What to do with the existing session a key routes to, in the order the checks must run:
 * 1. ended in the store -> `recover` (its flags are stale and not consulted);
 * 2. `suspended` -> `reset("suspended")`; it wins over `resumePending`;
 * 3. the reset policy (`evaluateReset`, which never resets with background work active);
 * 4. for a resume-pending session only: past the freshness window -> `reset("resume_pending_expired")`,
 *    measured from `lastResumeMarkedAt` (or `updatedAt` when unknown);
 * 5. otherwise `reuse`.
 */
export function decideRouting(props: RoutingDecisionProps): RoutingDecision {
  const { state, now } = props;
  if (state.endedInStore) return { action: "recover" };
  if (state.suspended) return { action: "reset", reason: "suspended" };
  const decision = evaluateReset({
    policy: props.policy,
    lastActivityAt: state.updatedAt,
    now,
    hasActiveBackgroundWork: props.hasActiveBackgroundWork ?? false,
    ...(props.utcOffset === undefined ? {} : { utcOffset: props.utcOffset }),
  });
  if (decision.reset) return { action: "reset", reason: decision.reason };
  if (state.resumePending) {
    const markedAt = state.lastResumeMarkedAt ?? state.updatedAt;
    if (!isResumeFresh(markedAt, now, props.resumeFreshnessMs)) {
      return { action: "reset", reason: "resume_pending_expired" };
    }
  }
  return { action: "reuse" };
}

/** A resume-pending mark may be set unless the session is suspended (a hard wipe always wins). */
export function canMarkResumePending(state: Pick<RoutedSessionState, "suspended">): boolean {
  return !state.suspended;
}

/**
 * At startup after a crash, whether a session should be marked resume-pending: it was active within
 * `maxAgeMs` of `now` (inclusive), is not already pending and not suspended.
 */
export function shouldMarkResumeAfterCrash(
  state: Pick<RoutedSessionState, "updatedAt" | "suspended" | "resumePending">,
  now: number,
  maxAgeMs = 120_000,
): boolean {
  if (state.resumePending || state.suspended) return false;
  return state.updatedAt >= now - maxAgeMs;
}

/**
 * Whether an index entry should be pruned for age: last activity strictly before `now - maxAgeDays`.
 * Suspended entries (paused on purpose) and entries with live background work are kept; a
 * non-positive `maxAgeDays` disables pruning.
 */
export function shouldPruneRoute(
  state: Pick<RoutedSessionState, "updatedAt" | "suspended">,
  props: { readonly now: number; readonly maxAgeDays: number; readonly hasActiveBackgroundWork?: boolean },
): boolean {
  if (!(props.maxAgeDays > 0) || state.suspended || props.hasActiveBackgroundWork) return false;
  return state.updatedAt < props.now - props.maxAgeDays * 24 * 60 * 60 * 1000;
}
