import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The built executable every end-to-end test drives (`pnpm --filter @engram/gateway build`). */
export const GATEWAY_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

export interface StartGatewayProps {
  /** Variables on top of a scrubbed copy of this process's environment (no inherited `DATABASE_URL`/`ENGRAM_*`/`INIT_CWD`). */
  readonly env: Readonly<Record<string, string>>;
  /** Node options before the script (e.g. `--cpu-prof`). */
  readonly execArgv?: readonly string[];
  /** Longest wait for "listening" plus a healthy `/health`, in ms (default 30000). */
  readonly readyTimeoutMs?: number;
}

/** What the HTTP API answered: the status and the parsed JSON body. */
export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

const LISTENING = /Server listening at (http:\/\/[^\s"]+)/;

/**
 * One running `node dist/main.js`. Ready means: the process printed Fastify's JSON "Server listening
 * at <url>" log line (it is started on port 0) and `GET /health` answered 200. The last lines of its
 * output are kept for failure messages.
 */
export class GatewayProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #output: string[];
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    url: string,
    child: ChildProcess,
    output: string[],
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.url = url;
    this.#child = child;
    this.#output = output;
    this.#exited = exited;
  }

  static async start(props: StartGatewayProps): Promise<GatewayProcess> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      // INIT_CWD too: a config file where `pnpm test` was typed must not leak into the gateway.
      if (value === undefined || name === "DATABASE_URL" || name === "INIT_CWD" || name.startsWith("ENGRAM_"))
        continue;
      env[name] = value;
    }
    Object.assign(env, { ENGRAM_GATEWAY_HOST: "127.0.0.1", ENGRAM_GATEWAY_PORT: "0" }, props.env);
    const child = spawn(process.execPath, [...(props.execArgv ?? []), GATEWAY_MAIN], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    const keep = (line: string) => {
      output.push(line);
      if (output.length > 200) output.shift();
    };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
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
        reject(new Error(`gateway exited before listening (code ${code}, signal ${signal})`)),
      );
    });
    // Unused when the port is fixed; its rejection (an early exit) still ends the health wait below.
    listening.catch(() => undefined);
    const timeoutMs = props.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gateway not ready within ${timeoutMs} ms`)), timeoutMs);
    });
    // A fixed port is known up front (quiet log levels print no "listening" line); port 0 is read from the log.
    const fixedPort = env.ENGRAM_GATEWAY_PORT !== "0" ? env.ENGRAM_GATEWAY_PORT : undefined;
    try {
      const url = fixedPort ? `http://127.0.0.1:${fixedPort}` : await Promise.race([listening, timeout]);
      const gateway = new GatewayProcess(url, child, output, exited);
      await Promise.race([
        gateway.#waitHealthy(),
        timeout,
        listening.then(() => new Promise<never>(() => {})),
      ]);
      return gateway;
    } catch (error) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`${(error as Error).message}\n--- gateway output ---\n${output.join("\n")}`);
    } finally {
      clearTimeout(timer);
    }
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Whether the process is still running (it has not exited or been killed). */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the process printed (stdout and stderr). */
  output(): string {
    return this.#output.join("\n");
  }

  async #waitHealthy(): Promise<void> {
    while (this.#child.exitCode === null && this.#child.signalCode === null) {
      const response = await fetch(`${this.url}/health`).catch(() => undefined);
      if (response?.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("gateway exited before it was healthy");
  }

  /** `POST /v1/messages` with a raw body (strings are sent verbatim, anything else as JSON). */
  async post<T = unknown>(body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer<T>> {
    const response = await fetch(`${this.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the assertion message.
    }
    return { status: response.status, body: parsed as T };
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const response = await fetch(`${this.url}${path}`);
    return { status: response.status, text: await response.text() };
  }

  /** Sends `signal` and waits for the exit; SIGTERM escalates to SIGKILL after `graceMs`. */
  async kill(
    signal: NodeJS.Signals = "SIGTERM",
    graceMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
