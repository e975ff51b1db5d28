/**
 * Why a gateway session row was ended. `agent_close` is the gateway's own cleanup (agent evicted,
 * gateway shut down): the conversation itself never ended, so it may be reopened. The others are
 * deliberate user actions and must never be undone silently.
 */
export const GATEWAY_END_REASONS = {
  /** The user started over (/new, /reset) or a reset policy expired the session. */
  sessionReset: "session_reset",
  /** The user switched to another session (/resume). */
  sessionSwitch: "session_switch",
  /** Gateway-side cleanup; the conversation is still live from the user's point of view. */
  agentClose: "agent_close",
} as const;

export type GatewayEndReason = (typeof GATEWAY_END_REASONS)[keyof typeof GATEWAY_END_REASONS];

/** End reasons after which a peer's latest session may be reopened and routed to again. */
export const RECOVERABLE_END_REASONS: ReadonlySet<string> = new Set([GATEWAY_END_REASONS.agentClose]);

/**
 * Whether a stored session may be recovered for its peer: it is still open, or it was ended only by a
 * recoverable reason. Any other end reason (a /new, a switch, an unknown one) yields a fresh session.
 * A row counts as ended when either `endedAt` or `endReason` is set, so a half-written end (reason
 * without timestamp) is never silently reopened.
 */
export function isRecoverableSession(row: {
  readonly endedAt?: number | null | undefined;
  readonly endReason?: string | null | undefined;
}): boolean {
  const ended =
    (row.endedAt !== undefined && row.endedAt !== null) ||
    (row.endReason !== undefined && row.endReason !== null);
  if (!ended) return true;
  return row.endReason !== undefined && row.endReason !== null && RECOVERABLE_END_REASONS.has(row.endReason);
}
