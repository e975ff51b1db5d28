import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The test side of the gateway's `ENGRAM_TEST_CLOCK_FILE`: writes the offset the running executable
 * adds to its system time, so a test moves the gateway's "now" without restarting it.
 */
export class ClockFile {
  readonly path: string;
  #offsetMs = 0;

  constructor() {
    this.path = join(mkdtempSync(join(tmpdir(), "engram-e2e-clock-")), "offset");
    this.#write();
  }

  /** Environment that makes a gateway read this clock. */
  env(): Record<string, string> {
    return { ENGRAM_TEST_CLOCK_FILE: this.path };
  }

  /** The gateway's "now" (approximately: real time moves on between calls). */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the gateway's clock to `epochMs`. */
  set(epochMs: number): void {
    this.#offsetMs = epochMs - Date.now();
    this.#write();
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
    this.#write();
  }

  #write(): void {
    writeFileSync(this.path, String(this.#offsetMs));
  }
}
