import { describe, expect, it } from "vitest";
import type { ResetPolicy } from "./reset-policy.js";
import {
  canMarkResumePending,
  DEFAULT_RESUME_FRESHNESS_MS,
  decideRouting,
  isResumeFresh,
  shouldMarkResumeAfterCrash,
  shouldPruneRoute,
} from "./session-continuity.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const now = Date.parse("2026-03-10T12:00:00Z");
const never: ResetPolicy = { mode: "none", atHour: 4, idleMinutes: 1440 };
const idle60: ResetPolicy = { mode: "idle", atHour: 4, idleMinutes: 60 };

describe("isResumeFresh", () => {
  it.each([
    ["just marked", 0, true],
    ["exactly at the window", DEFAULT_RESUME_FRESHNESS_MS, true],
    ["one millisecond past the window", DEFAULT_RESUME_FRESHNESS_MS + 1, false],
  ])("is %s", (_name, age, fresh) => {
    expect(isResumeFresh(now - age, now)).toBe(fresh);
  });

  it("defaults to a one-hour window", () => {
    expect(DEFAULT_RESUME_FRESHNESS_MS).toBe(HOUR);
  });

  it("treats a non-positive window as always fresh", () => {
    expect(isResumeFresh(now - 100 * DAY, now, 0)).toBe(true);
    expect(isResumeFresh(now - 100 * DAY, now, -1)).toBe(true);
  });
});

describe("decideRouting", () => {
  const live = { updatedAt: now - MINUTE };

  it("reuses a live session within its policy", () => {
    expect(decideRouting({ state: live, policy: idle60, now })).toEqual({ action: "reuse" });
  });

  it("recovers when the store says the session ended, ignoring its stale flags", () => {
    const state = { ...live, endedInStore: true, suspended: true, resumePending: true };
    expect(decideRouting({ state, policy: idle60, now })).toEqual({ action: "recover" });
  });

  it("resets a suspended session even when resume is pending and background work is active", () => {
    const state = { ...live, suspended: true, resumePending: true, lastResumeMarkedAt: now };
    expect(decideRouting({ state, policy: never, now, hasActiveBackgroundWork: true })).toEqual({
      action: "reset",
      reason: "suspended",
    });
  });

  it("applies the reset policy to an ordinary session", () => {
    expect(decideRouting({ state: { updatedAt: now - 2 * HOUR }, policy: idle60, now })).toEqual({
      action: "reset",
      reason: "idle",
    });
  });

  it("does not reset while background work is active", () => {
    expect(
      decideRouting({
        state: { updatedAt: now - 2 * HOUR },
        policy: idle60,
        now,
        hasActiveBackgroundWork: true,
      }),
    ).toEqual({ action: "reuse" });
  });

  it("resumes a fresh resume-pending session", () => {
    const state = { updatedAt: now - MINUTE, resumePending: true, lastResumeMarkedAt: now - 30 * MINUTE };
    expect(decideRouting({ state, policy: never, now })).toEqual({ action: "reuse" });
  });

  it("resets a resume-pending zombie whose mark is older than the window although messages keep arriving", () => {
    const state = { updatedAt: now - MINUTE, resumePending: true, lastResumeMarkedAt: now - 2 * HOUR };
    expect(decideRouting({ state, policy: never, now })).toEqual({
      action: "reset",
      reason: "resume_pending_expired",
    });
  });

  it("measures a resume-pending session without a mark from its last activity", () => {
    const state = { updatedAt: now - 2 * HOUR, resumePending: true };
    expect(decideRouting({ state, policy: never, now })).toEqual({
      action: "reset",
      reason: "resume_pending_expired",
    });
  });

  it("reports the policy reason first for a resume-pending session that also expired", () => {
    const state = { updatedAt: now - 2 * HOUR, resumePending: true, lastResumeMarkedAt: now - 3 * HOUR };
    expect(decideRouting({ state, policy: idle60, now })).toEqual({ action: "reset", reason: "idle" });
  });

  it("honours a custom freshness window and its opt-out", () => {
    const state = { updatedAt: now, resumePending: true, lastResumeMarkedAt: now - 10 * MINUTE };
    expect(decideRouting({ state, policy: never, now, resumeFreshnessMs: 5 * MINUTE })).toEqual({
      action: "reset",
      reason: "resume_pending_expired",
    });
    expect(decideRouting({ state, policy: never, now, resumeFreshnessMs: 0 })).toEqual({ action: "reuse" });
  });

  it("passes the time-zone offset to the daily check", () => {
    const daily: ResetPolicy = { mode: "daily", atHour: 13, idleMinutes: 0 };
    // At 12:00Z the last 13:00 boundary was yesterday in UTC and at UTC-2, but 11:00Z today at UTC+2.
    const state = { updatedAt: Date.parse("2026-03-10T10:30:00Z") };
    expect(decideRouting({ state, policy: daily, now })).toEqual({ action: "reuse" });
    expect(decideRouting({ state, policy: daily, now, utcOffset: -120 })).toEqual({ action: "reuse" });
    expect(decideRouting({ state, policy: daily, now, utcOffset: 120 })).toEqual({
      action: "reset",
      reason: "daily",
    });
  });
});

describe("resume marks and pruning", () => {
  it("never marks a suspended session resume-pending", () => {
    expect(canMarkResumePending({ suspended: true })).toBe(false);
    expect(canMarkResumePending({})).toBe(true);
  });

  it.each([
    ["recently active", { updatedAt: now - MINUTE }, true],
    ["active exactly at the cutoff", { updatedAt: now - 2 * MINUTE }, true],
    ["idle past the cutoff", { updatedAt: now - 2 * MINUTE - 1 }, false],
    ["already pending", { updatedAt: now, resumePending: true }, false],
    ["suspended", { updatedAt: now, suspended: true }, false],
  ])("after a crash decides for a session that is %s", (_name, state, marked) => {
    expect(shouldMarkResumeAfterCrash(state, now)).toBe(marked);
  });

  it.each([
    ["older than the limit", { updatedAt: now - 8 * DAY }, {}, true],
    ["exactly at the limit", { updatedAt: now - 7 * DAY }, {}, false],
    ["suspended", { updatedAt: now - 30 * DAY, suspended: true }, {}, false],
    ["busy with background work", { updatedAt: now - 30 * DAY }, { hasActiveBackgroundWork: true }, false],
    ["old, with pruning disabled", { updatedAt: 0 }, { maxAgeDays: 0 }, false],
  ])("decides pruning for a route %s", (_name, state, extra, pruned) => {
    expect(shouldPruneRoute(state, { now, maxAgeDays: 7, ...extra })).toBe(pruned);
  });
});
