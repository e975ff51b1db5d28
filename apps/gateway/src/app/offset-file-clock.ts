import { readFileSync } from "node:fs";
import type { Clock } from "@engram/core";

/**
 * Test-only clock of the executable (`ENGRAM_TEST_CLOCK_FILE`): the system time plus an offset in
 * milliseconds read from a file at every call, so an end-to-end test can move a running gateway's
 * "now" (idle and daily resets, resume freshness) without restarting it. A missing, empty or
 * non-numeric file means offset 0. Never set it in production: anyone who can write the file moves time.
 */
export class OffsetFileClock implements Clock {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  /** The offset currently in the file (0 when unreadable). */
  offsetMs(): number {
    let raw: string;
    try {
      raw = readFileSync(this.#path, "utf8").trim();
    } catch {
      return 0;
    }
    const offset = Number(raw);
    return raw !== "" && Number.isFinite(offset) ? offset : 0;
  }

  now(): number {
    return Date.now() + this.offsetMs();
  }
}
