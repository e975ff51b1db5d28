import { randomBytes } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";
import { DataDirLockedError } from "./data-dir-locked-error.js";

/** The lock file's name inside a PGlite data folder (PGlite and initdb ignore other files there). */
export const DATA_DIR_LOCK_FILE = "engram.lock";

/** Who owns a data folder: the JSON content of its lock file. */
export interface DataDirOwner {
  readonly pid: number;
  readonly hostname: string;
  /** Epoch ms the owner took the folder. */
  readonly lockedAt: number;
  /**
   * Linux: the owner's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22), so a pid
   * the system has since given to another process does not count as the owner. `null` elsewhere.
   */
  readonly processStart: number | null;
  /** Linux: the kernel's boot id when the lock was taken; after a reboot every recorded pid is gone. */
  readonly bootId: string | null;
  /** What the owner runs (script name), for the person reading the error. */
  readonly command: string | null;
  /** Unique per lock, so a release or a takeover removes only the file it judged. */
  readonly token: string;
}

/** A data folder this process owns until {@link DataDirLock.release}. */
export interface DataDirLock {
  readonly dataDir: string;
  readonly lockFile: string;
  readonly owner: DataDirOwner;
  /** Removes the lock file if it is still this lock's. Idempotent. */
  release(): Promise<void>;
}

/** Folders this process holds, by lock file: a second open in the same process is refused too. */
const held = new Map<string, DataDirOwner>();

const ATTEMPTS = 50;

/**
 * Takes ownership of a PGlite data folder (which must exist) before anything in it is opened. The
 * lock file is created atomically: written in full under a unique name, then hard-linked to
 * {@link DATA_DIR_LOCK_FILE}, which fails with `EEXIST` like `O_EXCL` does, so no reader ever sees a
 * half-written owner. A lock left by a process that is gone (no such pid on this host, a pid the system
 * gave to another process since, a zombie, or an earlier boot) is taken over; two processes racing for
 * the same stale lock are serialised by a short-lived takeover file, so exactly one of them wins.
 *
 * The lock is released by {@link DataDirLock.release} and, should the process exit without closing,
 * by an `exit` hook (a `kill -9` leaves it behind; the next start takes it over).
 *
 * @throws DataDirLockedError (code `DATA_DIR_LOCKED`) when a live process owns the folder (this one
 *   included), or a process on another host does (which cannot be checked from here).
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const folder = resolve(dataDir);
  const lockFile = join(folder, DATA_DIR_LOCK_FILE);
  const owner = currentOwner();
  let unreadable = 0;
  let lastOwner: DataDirOwner | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createExclusively(lockFile, owner)) return holdLock(folder, lockFile, owner);
    const existing = await readOwner(lockFile);
    if (existing === "missing") continue; // released between our try and the read: try again
    if (existing === "unreadable") {
      // Only a filesystem without hard links lets a reader see a lock file being written; give its
      // writer a moment before calling the file junk.
      if (++unreadable < 3) {
        await pause(100);
        continue;
      }
    } else {
      lastOwner = existing;
      const state = ownerState(existing, lockFile);
      if (state !== "gone") throw new DataDirLockedError(folder, lockFile, existing, state);
    }
    await takeOver(lockFile, existing);
    await pause(5 + attempt * 5);
  }
  // Only reachable when other processes keep taking and dropping the folder faster than we can look.
  throw new DataDirLockedError(folder, lockFile, lastOwner ?? owner, "running");
}

/** Whether the owner a lock file names still holds it, as far as this host can tell. */
function ownerState(
  owner: DataDirOwner,
  lockFile: string,
): "running" | "this-process" | "other-host" | "gone" {
  if (owner.hostname !== hostname()) return "other-host";
  const boot = bootId();
  if (owner.bootId !== null && boot !== null && owner.bootId !== boot) return "gone";
  if (owner.pid === process.pid) {
    // Our pid in a file we do not hold: an earlier process had it (a container's pid 1 after a restart).
    return held.get(lockFile)?.token === owner.token ? "this-process" : "gone";
  }
  return isAlive(owner) ? "running" : "gone";
}

function isAlive(owner: DataDirOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to another user; only ESRCH means no such process.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const stat = processStat(owner.pid);
  if (stat === undefined) return true; // not Linux, or /proc hidden: the pid's existence has to do
  // A killed process its parent has not reaped yet still answers kill(0); it holds no files.
  if (stat.state === "Z" || stat.state === "X") return false;
  return owner.processStart === null || owner.processStart === stat.startTicks;
}

/**
 * Removes a lock judged stale, unless someone changed it meanwhile. A takeover file (created with
 * `wx`) makes the re-read and the unlink one step among racing processes; a takeover file whose
 * creator died is cleared after its owner is checked like any other.
 */
async function takeOver(lockFile: string, stale: DataDirOwner | "unreadable"): Promise<void> {
  const guard = `${lockFile}.takeover`;
  const me = currentOwner();
  try {
    await writeFile(guard, JSON.stringify(me), { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const other = await readOwner(guard);
    if (other === "unreadable" || (typeof other === "object" && ownerState(other, guard) === "gone")) {
      await unlink(guard).catch(ignoreMissing);
    }
    return;
  }
  try {
    const now = await readOwner(lockFile);
    const same =
      now === "unreadable"
        ? stale === "unreadable"
        : typeof now === "object" && typeof stale === "object" && now.token === stale.token;
    if (same) await unlink(lockFile).catch(ignoreMissing);
  } finally {
    await unlink(guard).catch(ignoreMissing);
  }
}

function holdLock(dataDir: string, lockFile: string, owner: DataDirOwner): DataDirLock {
  held.set(lockFile, owner);
  // Runs on process.exit() and on a crash by an uncaught error, not on kill -9. Synchronous, as an
  // exit hook must be; the process is ending, so PGlite's files are no longer in use.
  const onExit = () => {
    if (isOurs(lockFile, owner)) {
      try {
        unlinkSync(lockFile);
      } catch {
        // Best effort: a lock left behind is taken over by the next start.
      }
    }
  };
  process.on("exit", onExit);
  let released: Promise<void> | undefined;
  return {
    dataDir,
    lockFile,
    owner,
    release() {
      released ??= (async () => {
        process.off("exit", onExit);
        if (held.get(lockFile)?.token === owner.token) held.delete(lockFile);
        const now = await readOwner(lockFile);
        if (typeof now === "object" && now.token === owner.token) await unlink(lockFile).catch(ignoreMissing);
      })();
      return released;
    },
  };
}

/** Creates `path` holding `owner`, atomically and only if it does not exist; false when it exists. */
async function createExclusively(path: string, owner: DataDirOwner): Promise<boolean> {
  const content = `${JSON.stringify(owner, null, 2)}\n`;
  const staged = `${path}.${owner.pid}.${owner.token}.tmp`;
  await writeFile(staged, content, { flag: "wx" });
  try {
    await link(staged, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // A filesystem without hard links: O_EXCL directly (a reader may then see the file empty for a
    // moment, which counts as unreadable and waits for the takeover path to look again).
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw error;
    try {
      await writeFile(path, content, { flag: "wx" });
      return true;
    } catch (fallback) {
      if ((fallback as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw fallback;
    }
  } finally {
    await unlink(staged).catch(ignoreMissing);
  }
}

async function readOwner(path: string): Promise<DataDirOwner | "missing" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  return parseOwner(text) ?? "unreadable";
}

function isOurs(lockFile: string, owner: DataDirOwner): boolean {
  try {
    return parseOwner(readFileSync(lockFile, "utf8"))?.token === owner.token;
  } catch {
    return false;
  }
}

function parseOwner(text: string): DataDirOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.pid) || typeof v.hostname !== "string" || typeof v.token !== "string") {
    return undefined;
  }
  return {
    pid: v.pid as number,
    hostname: v.hostname,
    lockedAt: typeof v.lockedAt === "number" ? v.lockedAt : 0,
    processStart: typeof v.processStart === "number" ? v.processStart : null,
    bootId: typeof v.bootId === "string" ? v.bootId : null,
    command: typeof v.command === "string" ? v.command : null,
    token: v.token,
  };
}

function currentOwner(): DataDirOwner {
  const script = process.argv[1];
  return {
    pid: process.pid,
    hostname: hostname(),
    lockedAt: Date.now(),
    processStart: processStat(process.pid)?.startTicks ?? null,
    bootId: bootId(),
    command: script ? `${basename(process.execPath)} ${script}` : null,
    token: randomBytes(12).toString("hex"),
  };
}

/** State and start time of a process from `/proc/<pid>/stat` (Linux); `undefined` when unavailable. */
function processStat(pid: number): { state: string; startTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = Number(fields[19]); // field 22 of the line; fields[0] is field 3
  return state && Number.isSafeInteger(startTicks) ? { state, startTicks } : undefined;
}

let cachedBootId: string | null | undefined;
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
