import { EngramError } from "@engram/core";
import type { DataDirOwner } from "./data-dir-lock.js";

/**
 * An embedded (PGlite) data folder is owned by another live process, so this one must not open it:
 * two processes on one folder each see their own copy and one run's writes are lost. Thrown before
 * anything in the folder is read or written. `details` names the folder, the lock file and the owner.
 */
export class DataDirLockedError extends EngramError {
  readonly dataDir: string;
  readonly owner: DataDirOwner;

  constructor(
    dataDir: string,
    lockFile: string,
    owner: DataDirOwner,
    where: "this-process" | "other-host" | "running",
  ) {
    super("DATA_DIR_LOCKED", messageFor(dataDir, lockFile, owner, where), {
      details: { dataDir, lockFile, owner: { ...owner }, where },
    });
    this.name = "DataDirLockedError";
    this.dataDir = dataDir;
    this.owner = owner;
  }
}

function messageFor(
  dataDir: string,
  lockFile: string,
  owner: DataDirOwner,
  where: "this-process" | "other-host" | "running",
): string {
  const since = new Date(owner.lockedAt)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  const what = owner.command ? ` (${owner.command})` : "";
  const remedies =
    "One embedded database folder serves one process at a time. Stop that process, or give this one " +
    "another folder with ENGRAM_DATA_DIR, or set DATABASE_URL to a PostgreSQL server, which several " +
    "processes can share.";
  switch (where) {
    case "this-process":
      return `The embedded database folder ${dataDir} is already open in this process (pid ${owner.pid}). Close it first, or share the open database. ${remedies}`;
    case "other-host":
      return (
        `The embedded database folder ${dataDir} is in use by pid ${owner.pid} on host ${owner.hostname}${what}, ` +
        `since ${since}. ${remedies} A process on another host cannot be checked from here: if none runs ` +
        `there any more, delete ${lockFile}.`
      );
    case "running":
      return `The embedded database folder ${dataDir} is in use by another process: pid ${owner.pid}${what}, since ${since}. ${remedies}`;
  }
}
