/**
 * Ownership of an embedded data folder, with real processes (children running
 * `test-support/data-dir-child.ts` through tsx): two `pnpm start` on one `.engram/data` used to both
 * open it, each serving its own view, and one run's writes were lost.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DATA_DIR_LOCK_FILE, type DataDirOwner, lockDataDir } from "./data-dir-lock.js";
import { startDataDirChild } from "./test-support/data-dir-child-process.js";

const CHILD_TIMEOUT_MS = 60_000;

describe("lockDataDir", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "engram-lock-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const lockFile = () => join(dir, DATA_DIR_LOCK_FILE);
  const writeOwner = (owner: Partial<DataDirOwner>) =>
    writeFileSync(
      lockFile(),
      JSON.stringify({
        pid: 1,
        hostname: hostname(),
        lockedAt: Date.now(),
        processStart: null,
        bootId: null,
        command: "node elsewhere.js",
        token: "t0",
        ...owner,
      }),
    );
  /** A process that exited and was reaped: its pid is free (until the system reuses it). */
  const deadPid = async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    await once(child, "exit");
    return child.pid!;
  };

  it("records the owner's pid, host and start time in the folder and removes the file on release", async () => {
    const lock = await lockDataDir(dir);
    const written = JSON.parse(readFileSync(lockFile(), "utf8")) as DataDirOwner;
    expect(written).toMatchObject({ pid: process.pid, hostname: hostname(), token: lock.owner.token });
    expect(written.lockedAt).toBeGreaterThan(Date.now() - 60_000);
    if (process.platform === "linux") expect(written.processStart).toEqual(expect.any(Number));
    await lock.release();
    await lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it(
    "refuses a folder another live process owns, naming the folder and the owner's pid, and takes it once that process released it",
    async () => {
      const owner = startDataDirChild(["lock", dir]);
      try {
        owner.send("lock");
        expect(await owner.next()).toEqual({ locked: true });
        const refused = await lockDataDir(dir).catch((error: unknown) => error);
        expect(refused).toMatchObject({
          code: "DATA_DIR_LOCKED",
          details: { dataDir: dir, owner: { pid: owner.pid } },
        });
        const message = (refused as Error).message;
        expect(message).toContain(dir);
        expect(message).toContain(`pid ${owner.pid}`);
        expect(message).toMatch(/ENGRAM_DATA_DIR.*DATABASE_URL/s);
        expect(await owner.finish()).toBe(0);
        const lock = await lockDataDir(dir);
        await lock.release();
      } finally {
        await owner.kill();
      }
    },
    CHILD_TIMEOUT_MS,
  );

  it(
    "takes over the lock of an owner killed with kill -9",
    async () => {
      const owner = startDataDirChild(["lock", dir]);
      owner.send("lock");
      expect(await owner.next()).toEqual({ locked: true });
      await owner.kill();
      const left = JSON.parse(readFileSync(lockFile(), "utf8")) as DataDirOwner;
      expect(left.pid).toBe(owner.pid);
      const lock = await lockDataDir(dir);
      expect(lock.owner.pid).toBe(process.pid);
      await lock.release();
    },
    CHILD_TIMEOUT_MS,
  );

  it("takes over a lock whose pid is gone, or was reused by a process that started later", async () => {
    writeOwner({ pid: await deadPid() });
    await (await lockDataDir(dir)).release();
    // The parent process is alive, but it is not the process that wrote this start time.
    if (process.platform === "linux") {
      writeOwner({ pid: process.ppid, processStart: 1 });
      await (await lockDataDir(dir)).release();
    }
    // Our own pid in a file we never wrote: an earlier process had it (a container's pid 1).
    writeOwner({ pid: process.pid });
    await (await lockDataDir(dir)).release();
    // A lock from an earlier boot: every process it names is gone.
    writeOwner({ pid: process.ppid, bootId: "an-earlier-boot" });
    const lock = await lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject({ token: lock.owner.token });
    await lock.release();
  });

  it("refuses a lock of a live process it cannot tell from its recorded start time being unknown", async () => {
    writeOwner({ pid: process.ppid, processStart: null });
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: "DATA_DIR_LOCKED",
      details: { owner: { pid: process.ppid }, where: "running" },
    });
  });

  it("refuses a lock held on another host and says which file to delete if that owner is gone", async () => {
    writeOwner({ pid: process.ppid, hostname: "some-other-host" });
    const refused = await lockDataDir(dir).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "DATA_DIR_LOCKED", details: { where: "other-host" } });
    expect((refused as Error).message).toContain(lockFile());
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject({ hostname: "some-other-host" });
  });

  it("refuses a second open in the same process until the first is released", async () => {
    const first = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: "DATA_DIR_LOCKED",
      details: { where: "this-process" },
    });
    await first.release();
    await (await lockDataDir(dir)).release();
  });

  it("treats a lock file that is not an owner record as junk and takes the folder", async () => {
    writeFileSync(lockFile(), "not json");
    const lock = await lockDataDir(dir);
    expect(lock.owner.pid).toBe(process.pid);
    await lock.release();
  });

  it(
    "lets exactly one of several processes racing for a stale lock take it, round after round",
    async () => {
      const racers = Array.from({ length: 4 }, () => startDataDirChild(["lock", dir]));
      const stalePid = await deadPid();
      try {
        for (let round = 0; round < 15; round++) {
          writeOwner({ pid: stalePid, token: `stale-${round}` });
          // One write per child, back to back: they all look at the stale lock at about the same time.
          for (const racer of racers) racer.send("lock");
          const reports = await Promise.all(racers.map((racer) => racer.next()));
          const winners = reports.flatMap((report, i) => (report.locked === true ? [racers[i]!] : []));
          expect(winners, `round ${round}`).toHaveLength(1);
          expect(reports.filter((report) => report.locked === false).map((report) => report.code)).toEqual(
            Array(racers.length - 1).fill("DATA_DIR_LOCKED"),
          );
          expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject({ pid: winners[0]!.pid });
          for (const racer of racers) racer.send("release");
          await Promise.all(racers.map((racer) => racer.next()));
          expect(existsSync(lockFile())).toBe(false);
        }
      } finally {
        await Promise.all(racers.map((racer) => racer.finish()));
      }
      expect(existsSync(`${lockFile()}.takeover`)).toBe(false);
    },
    CHILD_TIMEOUT_MS,
  );
});
