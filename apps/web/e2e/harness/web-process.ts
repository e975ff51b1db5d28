import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The built executable these tests drive, as it is shipped (`pnpm --filter @engram/web build`). */
export const WEB_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const LISTENING = /Server listening at (http:\/\/[^\s"]+)/;

export interface StartWebProps {
  /** Variables on top of a scrubbed copy of this process's environment (no inherited `DATABASE_URL`/`ENGRAM_*`). */
  readonly env: Readonly<Record<string, string>>;
  /** Longest wait for "listening" plus a healthy `/api/health`, in ms (default 60000). */
  readonly readyTimeoutMs?: number;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * One running `node dist/main.js` (the web server alone), started on port 0. Ready means: it printed
 * Fastify's "Server listening at <url>" line and `GET /api/health` answered 200. The last lines of its
 * output are kept for failure messages.
 */
export class WebProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #output: string[];
  readonly #exited: Promise<Exit>;

  private constructor(url: string, child: ChildProcess, output: string[], exited: Promise<Exit>) {
    this.url = url;
    this.#child = child;
    this.#output = output;
    this.#exited = exited;
  }

  static async start(props: StartWebProps): Promise<WebProcess> {
    await ensureWebBuilt();
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      // INIT_CWD too: a config file where `pnpm test` was typed must not leak into the server.
      if (value === undefined || name === "DATABASE_URL" || name === "INIT_CWD" || name.startsWith("ENGRAM_"))
        continue;
      env[name] = value;
    }
    Object.assign(
      env,
      { ENGRAM_WEB_HOST: "127.0.0.1", ENGRAM_WEB_PORT: "0", ENGRAM_LOG_LEVEL: "info" },
      props.env,
    );
    const child = spawn(process.execPath, [WEB_MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    const keep = (line: string) => {
      output.push(line);
      if (output.length > 300) output.shift();
    };
    const exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    const listening = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        keep(line);
        const match = LISTENING.exec(line);
        if (match) resolve(match[1]!);
      });
      createInterface({ input: child.stderr! }).on("line", keep);
      void exited.then(({ code, signal }) =>
        reject(new Error(`web server exited before listening (code ${code}, signal ${signal})`)),
      );
    });
    listening.catch(() => undefined);
    const timeoutMs = props.readyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`web server not ready within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const url = await Promise.race([listening, timeout]);
      const web = new WebProcess(url, child, output, exited);
      await Promise.race([web.#waitHealthy(), timeout]);
      return web;
    } catch (error) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`${(error as Error).message}\n--- web server output ---\n${output.join("\n")}`);
    } finally {
      clearTimeout(timer);
    }
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the process printed (stdout and stderr). */
  output(): string {
    return this.#output.join("\n");
  }

  async #waitHealthy(): Promise<void> {
    while (this.running) {
      const response = await fetch(`${this.url}/api/health`).catch(() => undefined);
      if (response?.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("web server exited before it was healthy");
  }

  /** Sends `signal` and waits for the exit; SIGTERM escalates to SIGKILL after `graceMs`. */
  async kill(signal: NodeJS.Signals = "SIGTERM", graceMs = 20_000): Promise<Exit> {
    if (this.running) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

let building: Promise<void> | undefined;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/**
 * These tests drive the built server and UI. CI builds before testing; on a developer machine a
 * missing or stale `dist/main.js` (older than a source file of the server or the UI) is rebuilt once
 * per process. Dependencies are expected built (`turbo` runs `^build` before `test`).
 */
export function ensureWebBuilt(): Promise<void> {
  building ??= (async () => {
    const newest = Math.max(newestSource(join(PACKAGE_DIR, "src")), newestSource(join(PACKAGE_DIR, "ui")));
    if (existsSync(WEB_MAIN) && statSync(WEB_MAIN).mtimeMs >= newest) return;
    await promisify(execFile)("pnpm", ["run", "build"], { cwd: PACKAGE_DIR }).catch((error: unknown) => {
      const failure = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `building the web app failed: ${failure.message}\n${failure.stdout ?? ""}${failure.stderr ?? ""}`,
      );
    });
  })();
  return building;
}
