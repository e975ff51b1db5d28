import { describe, expect, it } from "vitest";
import { ReconnectBackoff } from "./reconnect-backoff.js";

describe("ReconnectBackoff", () => {
  it("doubles its step from minMs up to maxMs and starts over after reset", () => {
    const backoff = new ReconnectBackoff({ minMs: 100, maxMs: 1_000, random: () => 0.999_999 });
    const steps = Array.from({ length: 7 }, () => Math.round(backoff.next()));
    expect(steps).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    backoff.reset();
    expect(Math.round(backoff.next())).toBe(100);
  });

  it("draws each pause between half and all of its step, so processes dropped together spread out", () => {
    const low = new ReconnectBackoff({ minMs: 100, maxMs: 1_000, random: () => 0 });
    expect([low.next(), low.next(), low.next()]).toEqual([50, 100, 200]);
    const real = new ReconnectBackoff({ minMs: 100, maxMs: 1_000 });
    const pauses = Array.from({ length: 200 }, () => {
      real.reset();
      return real.next();
    });
    for (const pause of pauses) {
      expect(pause).toBeGreaterThanOrEqual(50);
      expect(pause).toBeLessThanOrEqual(100);
    }
    expect(new Set(pauses).size).toBeGreaterThan(100);
  });

  it("stays capped however long the outage lasts", () => {
    const backoff = new ReconnectBackoff({ minMs: 1, maxMs: 5_000 });
    let last = 0;
    for (let i = 0; i < 10_000; i++) last = backoff.next();
    expect(last).toBeGreaterThanOrEqual(2_500);
    expect(last).toBeLessThanOrEqual(5_000);
  });

  it("refuses bounds that make no sense, with a coded error", () => {
    expect(() => new ReconnectBackoff({ minMs: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => new ReconnectBackoff({ minMs: 10, maxMs: 5 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
