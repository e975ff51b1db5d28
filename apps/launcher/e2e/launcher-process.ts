import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The built launcher executable (`pnpm --filter @engram/launcher build`). */
export const LAUNCHER_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
export const LAUNCHER_DIR = fileURLToPath(new URL("..", import.meta.url));

export interface LauncherExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One running launcher, started as a person would: `node dist/main.js`, or `pnpm run start` in its
 * own process group (so a signal can reach every process of it, as Ctrl-C in a terminal does).
 * Output is kept whole; `ready` resolves with the two URLs of the banner.
 */
export class LauncherProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<LauncherExit>;
  readonly ready: Promise<{ webUrl: string; gatewayUrl: string }>;
  #output = "";

  constructor(props: { readonly env: Readonly<Record<string, string>>; readonly viaPnpm?: boolean }) {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value === undefined || name === "DATABASE_URL" || name.startsWith("ENGRAM_")) continue;
      env[name] = value;
    }
    Object.assign(env, { ENGRAM_GATEWAY_PORT: "0", ENGRAM_WEB_PORT: "0" }, props.env);
    this.child = props.viaPnpm
      ? spawn("pnpm", ["run", "start"], {
          cwd: LAUNCHER_DIR,
          env,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, [LAUNCHER_MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        this.#output += `${line}\n`;
      });
    }
    this.exited = once(this.child, "exit").then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    this.ready = new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const web = /web UI:\s+(http:\/\/\S+)/.exec(this.#output)?.[1];
        const gateway = /gateway:\s+(http:\/\/\S+)/.exec(this.#output)?.[1];
        if (web && gateway && this.#output.includes("Press Ctrl-C")) {
          clearInterval(timer);
          resolve({ webUrl: web, gatewayUrl: gateway });
        }
      }, 50);
      void this.exited.then((exit) => {
        clearInterval(timer);
        reject(
          new Error(`launcher exited (${exit.code ?? exit.signal}) before it was ready:\n${this.#output}`),
        );
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Everything the process wrote so far (stdout and stderr). */
  get output(): string {
    return this.#output;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `signal` to the process, or to its whole process group when started through pnpm. */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.child.spawnargs[0] === "pnpm" ? -this.pid : this.pid, signal);
  }

  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<LauncherExit> {
    this.signal(signal);
    return this.exited;
  }
}
