import { InvalidArgumentError } from "../errors/index.js";
import type { ChatType, SessionSource } from "./session-source.js";

/**
 * When a conversation silently starts over with a fresh session:
 * - `idle`: after `idleMinutes` without activity;
 * - `daily`: at the first `atHour:00` local time after the last activity;
 * - `both`: whichever comes first (idle is checked first and wins the reason);
 * - `none`: never (context is then managed by compression alone).
 */
export const RESET_MODES = ["idle", "daily", "both", "none"] as const;
export type ResetMode = (typeof RESET_MODES)[number];

export interface ResetPolicy {
  readonly mode: ResetMode;
  /** Hour of the daily reset, 0-23, in the gateway's local time zone (see {@link UtcOffset}). */
  readonly atHour: number;
  /** Minutes of inactivity before an idle reset; 0 resets on any gap at all. */
  readonly idleMinutes: number;
}

/** Resets once a day at 04:00 or after 24 idle hours, whichever comes first. */
export const DEFAULT_RESET_POLICY: ResetPolicy = Object.freeze({
  mode: "both",
  atHour: 4,
  idleMinutes: 1440,
});

/** Policy overrides; resolution order is platform, then chat type, then `default`. */
export interface ResetPolicyConfig {
  readonly default?: ResetPolicy;
  readonly byChatType?: Readonly<Partial<Record<ChatType, ResetPolicy>>>;
  readonly byPlatform?: Readonly<Record<string, ResetPolicy>>;
}

/**
 * The policy that governs `source`: a per-platform override beats a per-chat-type override, which
 * beats the configured default, which falls back to {@link DEFAULT_RESET_POLICY}.
 */
export function resolveResetPolicy(
  config: ResetPolicyConfig,
  source: Pick<SessionSource, "platform" | "chatType">,
): ResetPolicy {
  const byPlatform = config.byPlatform && Object.hasOwn(config.byPlatform, source.platform);
  if (byPlatform) return config.byPlatform![source.platform]!;
  const byChatType = config.byChatType?.[source.chatType];
  if (byChatType) return byChatType;
  return config.default ?? DEFAULT_RESET_POLICY;
}

/**
 * Minutes to add to UTC to get local wall-clock time, either fixed (`120` for UTC+2) or as a function
 * of the instant (to follow daylight-saving changes; see {@link utcOffsetForTimeZone}).
 */
export type UtcOffset = number | ((epochMs: number) => number);

export interface EvaluateResetProps {
  readonly policy: ResetPolicy;
  /** Epoch ms of the last activity in the session. */
  readonly lastActivityAt: number;
  /** Epoch ms of "now", from the injected clock. */
  readonly now: number;
  /** A background process still works for this session; the session is then never reset. */
  readonly hasActiveBackgroundWork?: boolean;
  /** Local time zone of the daily boundary; default `0` (UTC). */
  readonly utcOffset?: UtcOffset;
}

export type ResetReason = "idle" | "daily";
export type ResetDecision =
  | { readonly reset: false }
  | { readonly reset: true; readonly reason: ResetReason };

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Whether a session whose last activity was at `lastActivityAt` has expired at `now`.
 *
 * - Idle: expired strictly after `lastActivityAt + idleMinutes` (exactly at the limit is still live).
 * - Daily: expired when the last activity precedes the most recent `atHour:00` local boundary at or
 *   before `now` (before `atHour` today, that is yesterday's boundary). Activity exactly at the
 *   boundary counts as after it.
 * - Never expired while background work is active, and never under mode `none`.
 */
export function evaluateReset(props: EvaluateResetProps): ResetDecision {
  const { policy, lastActivityAt, now } = props;
  if (props.hasActiveBackgroundWork || policy.mode === "none") return { reset: false };
  if (policy.mode === "idle" || policy.mode === "both") {
    if (now > lastActivityAt + policy.idleMinutes * MINUTE_MS) return { reset: true, reason: "idle" };
  }
  if (policy.mode === "daily" || policy.mode === "both") {
    if (lastActivityAt < lastDailyBoundary(now, policy.atHour, props.utcOffset ?? 0)) {
      return { reset: true, reason: "daily" };
    }
  }
  return { reset: false };
}

/**
 * Whether the expiry watcher will ever finalize a session under `policy` (mode `none` never expires,
 * so whoever caches its agent must evict it by other means).
 */
export function isSessionFinalizable(policy: ResetPolicy): boolean {
  return policy.mode !== "none";
}

/**
 * Epoch ms of the latest instant at or before `now` whose local wall-clock time is `atHour:00`.
 * Around a daylight-saving jump the local hour may not exist or occur twice; the offset in force
 * just before the boundary decides, which moves the boundary by at most the size of the jump.
 */
export function lastDailyBoundary(now: number, atHour: number, utcOffset: UtcOffset = 0): number {
  const offsetAt = (ms: number): number =>
    (typeof utcOffset === "number" ? utcOffset : utcOffset(ms)) * MINUTE_MS;
  const localNow = now + offsetAt(now);
  let localBoundary = Math.floor(localNow / DAY_MS) * DAY_MS + atHour * HOUR_MS;
  if (localBoundary > localNow) localBoundary -= DAY_MS;
  const toUtc = (local: number): number => local - offsetAt(local - offsetAt(now));
  let boundary = toUtc(localBoundary);
  // A DST change between the boundary and now can push the converted instant past now.
  if (boundary > now) boundary = toUtc(localBoundary - DAY_MS);
  return boundary;
}

/**
 * A {@link UtcOffset} for an IANA time zone (`"Europe/Berlin"`), computed with `Intl` so it follows
 * daylight-saving rules and needs no time-zone database of ours.
 *
 * @throws InvalidArgumentError when the runtime does not know `timeZone`.
 */
export function utcOffsetForTimeZone(timeZone: string): (epochMs: number) => number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch (cause) {
    throw Object.assign(
      new InvalidArgumentError("timeZone", `unknown IANA time zone ${JSON.stringify(timeZone)}`),
      {
        cause,
      },
    );
  }
  return (epochMs) => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(epochMs)) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const wallClock = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return Math.round((wallClock - Math.floor(epochMs / 1000) * 1000) / MINUTE_MS);
  };
}

/**
 * Validates a reset policy read from configuration; missing fields take the
 * {@link DEFAULT_RESET_POLICY} values (snake_case `at_hour`/`idle_minutes` are accepted too).
 *
 * @throws InvalidArgumentError on an unknown mode, an hour outside 0-23 or a negative idle time.
 */
export function parseResetPolicy(input: unknown): ResetPolicy {
  if (input === undefined || input === null) return DEFAULT_RESET_POLICY;
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new InvalidArgumentError("resetPolicy", "must be an object");
  }
  const record = input as Record<string, unknown>;
  const mode = record.mode ?? DEFAULT_RESET_POLICY.mode;
  if (typeof mode !== "string" || !(RESET_MODES as readonly string[]).includes(mode)) {
    throw new InvalidArgumentError("resetPolicy.mode", `must be one of ${RESET_MODES.join(", ")}`);
  }
  const atHour = record.atHour ?? record.at_hour ?? DEFAULT_RESET_POLICY.atHour;
  if (typeof atHour !== "number" || !Number.isInteger(atHour) || atHour < 0 || atHour > 23) {
    throw new InvalidArgumentError("resetPolicy.atHour", "must be an integer from 0 to 23");
  }
  const idleMinutes = record.idleMinutes ?? record.idle_minutes ?? DEFAULT_RESET_POLICY.idleMinutes;
  if (typeof idleMinutes !== "number" || !Number.isFinite(idleMinutes) || idleMinutes < 0) {
    throw new InvalidArgumentError("resetPolicy.idleMinutes", "must be a finite number >= 0");
  }
  return { mode: mode as ResetMode, atHour, idleMinutes };
}
