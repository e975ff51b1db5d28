import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./data-dir-child.ts", import.meta.url));
// cwd = the package, so `--import tsx` resolves this package's devDependency.
const PACKAGE_DIR = fileURLToPath(new URL("../../..", import.meta.url));

/** A running `data-dir-child.ts` (see there for its modes and commands). */
export interface DataDirChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Writes one command line to the child's stdin. */
  send(command: "lock" | "release"): void;
  /** The next JSON line the child prints. */
  next(): Promise<Record<string, unknown>>;
  /** Closes its stdin (it releases what it holds and exits) and waits for the exit code. */
  finish(): Promise<number | null>;
  /** kill -9, then waits until the parent has reaped it. */
  kill(): Promise<void>;
}

export function startDataDirChild(args: readonly string[]): DataDirChild {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    cwd: PACKAGE_DIR,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const queued: string[] = [];
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(line);
    else queued.push(line);
  });
  void exited.then((code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`data-dir-child exited (${code})`));
  });
  return {
    process: child,
    pid: child.pid!,
    send(command) {
      child.stdin!.write(`${command}\n`);
    },
    async next() {
      const line =
        queued.shift() ??
        (await new Promise<string>((resolve, reject) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error("data-dir-child has exited"));
          } else waiting.push({ resolve, reject });
        }));
      return JSON.parse(line) as Record<string, unknown>;
    },
    async finish() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.stdin!.end();
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
