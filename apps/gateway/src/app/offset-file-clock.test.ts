import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OffsetFileClock } from "./offset-file-clock.js";

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), "engram-clock-"));
  dirs.push(dir);
  return join(dir, "offset");
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("OffsetFileClock", () => {
  it("adds the offset in the file to the system time, re-reading it at every call", () => {
    const file = tempFile();
    const clock = new OffsetFileClock(file);
    writeFileSync(file, "3600000");
    const before = Date.now();
    const shifted = clock.now();
    expect(shifted).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(shifted).toBeLessThan(Date.now() + 3_600_000 + 1_000);
    writeFileSync(file, "-86400000\n");
    expect(clock.offsetMs()).toBe(-86_400_000);
  });

  it("counts a missing, empty or non-numeric file as no offset", () => {
    const file = tempFile();
    const clock = new OffsetFileClock(file);
    expect(clock.offsetMs()).toBe(0);
    writeFileSync(file, "");
    expect(clock.offsetMs()).toBe(0);
    writeFileSync(file, "soon");
    expect(clock.offsetMs()).toBe(0);
  });
});
