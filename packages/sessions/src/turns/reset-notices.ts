import type { AutoResetInfo } from "../routing/session-router.js";

const WHY: Readonly<Record<string, string>> = {
  idle: "the previous session expired after a period of inactivity",
  daily: "the previous session ended at the daily reset time",
  suspended: "the previous session was stopped and could not be resumed",
  resume_pending_expired: "the previous session was interrupted by a restart too long ago to continue",
};

function why(info: AutoResetInfo): string {
  return WHY[info.reason] ?? `the previous session was reset (${info.reason})`;
}

/** Why the session is new, for the model (a per-turn system note, never persisted). */
export function autoResetNote(info: AutoResetInfo): string {
  const memory = info.hadActivity
    ? " Earlier conversation is not in this transcript; rely on long-term memory for it."
    : "";
  return `[System note: this is a new session because ${why(info)}.${memory}]`;
}

/**
 * The line a platform shows the user before the first reply of an auto-reset session (seed 004: the
 * reset is announced once). `undefined` when the old session had no conversation: nothing was lost.
 */
export function autoResetNotice(info: AutoResetInfo): string | undefined {
  if (!info.hadActivity) return undefined;
  return `Started a new session: ${why(info)}. Use /resume to go back to it.`;
}
