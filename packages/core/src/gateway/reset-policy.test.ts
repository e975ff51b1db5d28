import { describe, expect, it } from "vitest";
import {
  DEFAULT_RESET_POLICY,
  evaluateReset,
  isSessionFinalizable,
  lastDailyBoundary,
  parseResetPolicy,
  type ResetPolicy,
  type ResetPolicyConfig,
  resolveResetPolicy,
  utcOffsetForTimeZone,
} from "./reset-policy.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const at = (iso: string): number => Date.parse(iso);

const idle30: ResetPolicy = { mode: "idle", atHour: 4, idleMinutes: 30 };
const daily4: ResetPolicy = { mode: "daily", atHour: 4, idleMinutes: 1440 };

describe("evaluateReset: idle", () => {
  const last = at("2026-03-10T12:00:00Z");
  it.each([
    ["one millisecond under the limit", 30 * MINUTE - 1, false],
    ["exactly at the limit", 30 * MINUTE, false],
    ["one millisecond over the limit", 30 * MINUTE + 1, true],
  ])("%s", (_name, elapsed, reset) => {
    const decision = evaluateReset({ policy: idle30, lastActivityAt: last, now: last + elapsed });
    expect(decision).toEqual(reset ? { reset: true, reason: "idle" } : { reset: false });
  });

  it("never resets an idle session while background work is active", () => {
    expect(
      evaluateReset({
        policy: idle30,
        lastActivityAt: last,
        now: last + 10 * HOUR,
        hasActiveBackgroundWork: true,
      }),
    ).toEqual({ reset: false });
  });

  it("ignores the daily boundary in idle mode", () => {
    const decision = evaluateReset({
      policy: idle30,
      lastActivityAt: at("2026-03-10T03:59:00Z"),
      now: at("2026-03-10T04:01:00Z"),
    });
    expect(decision).toEqual({ reset: false });
  });
});

describe("evaluateReset: daily", () => {
  it.each([
    ["activity before today's boundary, now after it", "2026-03-10T03:59:59Z", "2026-03-10T04:00:00Z", true],
    [
      "activity before today's boundary, now just before it",
      "2026-03-10T03:00:00Z",
      "2026-03-10T03:59:59.999Z",
      false,
    ],
    ["activity exactly at the boundary", "2026-03-10T04:00:00Z", "2026-03-10T23:00:00Z", false],
    ["activity after the boundary, same day", "2026-03-10T05:00:00Z", "2026-03-10T23:59:00Z", false],
    [
      "activity yesterday evening, now before today's boundary",
      "2026-03-09T22:00:00Z",
      "2026-03-10T03:00:00Z",
      false,
    ],
    [
      "activity yesterday before its boundary, now after midnight",
      "2026-03-09T03:00:00Z",
      "2026-03-10T01:00:00Z",
      true,
    ],
    ["activity two days ago", "2026-03-08T12:00:00Z", "2026-03-10T01:00:00Z", true],
  ])("%s", (_name, last, now, reset) => {
    const decision = evaluateReset({ policy: daily4, lastActivityAt: at(last), now: at(now) });
    expect(decision).toEqual(reset ? { reset: true, reason: "daily" } : { reset: false });
  });

  it("resets across midnight when the boundary hour is 0", () => {
    const midnight: ResetPolicy = { mode: "daily", atHour: 0, idleMinutes: 0 };
    expect(
      evaluateReset({
        policy: midnight,
        lastActivityAt: at("2026-03-09T23:59:00Z"),
        now: at("2026-03-10T00:00:00Z"),
      }),
    ).toEqual({
      reset: true,
      reason: "daily",
    });
    expect(
      evaluateReset({
        policy: midnight,
        lastActivityAt: at("2026-03-09T00:00:00Z"),
        now: at("2026-03-09T23:59:59Z"),
      }),
    ).toEqual({
      reset: false,
    });
  });

  it("places the boundary at atHour local time for a fixed UTC offset", () => {
    // 04:00 at UTC+2 is 02:00Z.
    const props = { policy: daily4, utcOffset: 120 } as const;
    expect(
      evaluateReset({
        ...props,
        lastActivityAt: at("2026-03-10T01:59:00Z"),
        now: at("2026-03-10T02:00:00Z"),
      }),
    ).toEqual({
      reset: true,
      reason: "daily",
    });
    expect(
      evaluateReset({
        ...props,
        lastActivityAt: at("2026-03-10T02:00:00Z"),
        now: at("2026-03-10T03:59:00Z"),
      }),
    ).toEqual({
      reset: false,
    });
  });

  it("places the boundary correctly for a negative offset across the UTC date line", () => {
    // 04:00 at UTC-8 is 12:00Z; at 10:00Z local time is 02:00, so the boundary is yesterday's 12:00Z.
    expect(lastDailyBoundary(at("2026-03-10T10:00:00Z"), 4, -480)).toBe(at("2026-03-09T12:00:00Z"));
    expect(lastDailyBoundary(at("2026-03-10T12:00:00Z"), 4, -480)).toBe(at("2026-03-10T12:00:00Z"));
  });

  it("follows daylight saving time through a time-zone offset function", () => {
    const berlin = utcOffsetForTimeZone("Europe/Berlin");
    expect(berlin(at("2026-01-15T12:00:00Z"))).toBe(60);
    expect(berlin(at("2026-07-15T12:00:00Z"))).toBe(120);
    // Winter: 04:00 CET = 03:00Z. Summer: 04:00 CEST = 02:00Z.
    expect(lastDailyBoundary(at("2026-01-15T12:00:00Z"), 4, berlin)).toBe(at("2026-01-15T03:00:00Z"));
    expect(lastDailyBoundary(at("2026-07-15T12:00:00Z"), 4, berlin)).toBe(at("2026-07-15T02:00:00Z"));
    // The day after the spring-forward night (2026-03-29 02:00 -> 03:00): 04:00 CEST on the 29th is 02:00Z.
    expect(lastDailyBoundary(at("2026-03-29T12:00:00Z"), 4, berlin)).toBe(at("2026-03-29T02:00:00Z"));
  });

  it("never returns a boundary after now", () => {
    const berlin = utcOffsetForTimeZone("Europe/Berlin");
    for (let t = at("2026-03-28T00:00:00Z"); t < at("2026-03-31T00:00:00Z"); t += 7 * MINUTE) {
      for (const hour of [0, 2, 3, 4, 23]) {
        const boundary = lastDailyBoundary(t, hour, berlin);
        expect(boundary).toBeLessThanOrEqual(t);
        expect(t - boundary).toBeLessThanOrEqual(25 * HOUR);
      }
    }
  });

  it("rejects an unknown time zone with INVALID_ARGUMENT", () => {
    expect(() => utcOffsetForTimeZone("Mars/Olympus_Mons")).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});

describe("evaluateReset: both and none", () => {
  const both: ResetPolicy = { mode: "both", atHour: 4, idleMinutes: 60 };

  it("reports idle when the idle limit passed, even if a daily boundary passed too", () => {
    expect(
      evaluateReset({
        policy: both,
        lastActivityAt: at("2026-03-10T03:00:00Z"),
        now: at("2026-03-10T05:00:00Z"),
      }),
    ).toEqual({
      reset: true,
      reason: "idle",
    });
  });

  it("reports daily when only the daily boundary passed", () => {
    expect(
      evaluateReset({
        policy: both,
        lastActivityAt: at("2026-03-10T03:59:00Z"),
        now: at("2026-03-10T04:01:00Z"),
      }),
    ).toEqual({
      reset: true,
      reason: "daily",
    });
  });

  it("keeps the session when neither triggered", () => {
    expect(
      evaluateReset({
        policy: both,
        lastActivityAt: at("2026-03-10T05:00:00Z"),
        now: at("2026-03-10T05:30:00Z"),
      }),
    ).toEqual({
      reset: false,
    });
  });

  it("never resets under mode none", () => {
    const none: ResetPolicy = { mode: "none", atHour: 4, idleMinutes: 1 };
    expect(evaluateReset({ policy: none, lastActivityAt: 0, now: at("2026-03-10T05:00:00Z") })).toEqual({
      reset: false,
    });
    expect(isSessionFinalizable(none)).toBe(false);
    expect(isSessionFinalizable(both)).toBe(true);
  });

  it("never resets with background work active, whatever the mode", () => {
    for (const mode of ["idle", "daily", "both"] as const) {
      expect(
        evaluateReset({
          policy: { mode, atHour: 4, idleMinutes: 1 },
          lastActivityAt: 0,
          now: at("2026-03-10T05:00:00Z"),
          hasActiveBackgroundWork: true,
        }),
      ).toEqual({ reset: false });
    }
  });
});

describe("resolveResetPolicy", () => {
  const platformPolicy: ResetPolicy = { mode: "none", atHour: 0, idleMinutes: 0 };
  const groupPolicy: ResetPolicy = { mode: "idle", atHour: 0, idleMinutes: 10 };
  const defaultPolicy: ResetPolicy = { mode: "daily", atHour: 6, idleMinutes: 0 };
  const config: ResetPolicyConfig = {
    default: defaultPolicy,
    byChatType: { group: groupPolicy },
    byPlatform: { slack: platformPolicy },
  };

  it("prefers a per-platform override over a per-chat-type override", () => {
    expect(resolveResetPolicy(config, { platform: "slack", chatType: "group" })).toBe(platformPolicy);
  });

  it("prefers a per-chat-type override over the default", () => {
    expect(resolveResetPolicy(config, { platform: "telegram", chatType: "group" })).toBe(groupPolicy);
  });

  it("falls back to the configured default, then to the built-in default", () => {
    expect(resolveResetPolicy(config, { platform: "telegram", chatType: "dm" })).toBe(defaultPolicy);
    expect(resolveResetPolicy({}, { platform: "telegram", chatType: "dm" })).toBe(DEFAULT_RESET_POLICY);
  });

  it("does not treat inherited object keys as platform overrides", () => {
    expect(resolveResetPolicy(config, { platform: "constructor", chatType: "dm" })).toBe(defaultPolicy);
  });
});

describe("parseResetPolicy", () => {
  it("fills missing fields from the default policy and accepts snake_case", () => {
    expect(parseResetPolicy({ mode: "idle", idle_minutes: 15 })).toEqual({
      mode: "idle",
      atHour: 4,
      idleMinutes: 15,
    });
    expect(parseResetPolicy(undefined)).toEqual(DEFAULT_RESET_POLICY);
  });

  it.each([
    ["an unknown mode", { mode: "weekly" }],
    ["an hour of 24", { atHour: 24 }],
    ["a fractional hour", { atHour: 3.5 }],
    ["a negative idle time", { idleMinutes: -1 }],
    ["a non-object", "both"],
  ])("rejects %s with INVALID_ARGUMENT", (_name, input) => {
    expect(() => parseResetPolicy(input)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
