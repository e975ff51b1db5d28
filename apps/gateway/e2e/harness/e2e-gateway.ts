import type { Database } from "@engram/store";
import { type TestBackend, testBackends } from "@engram/store/testing";
import { afterAll, beforeAll, describe } from "vitest";
import { E2EDatabase } from "./e2e-database.js";
import { ensureGatewayBuilt } from "./ensure-built.js";
import { GatewayProcess, type HttpAnswer } from "./gateway-process.js";

/** The bearer token every e2e gateway is started with. */
export const E2E_TOKEN = "e2e-token-0123456789abcdef";

/** The body of a successful `POST /v1/messages`. */
export interface MessageReply {
  readonly sessionId: string;
  readonly sessionKey: string;
  readonly reply: string | null;
  readonly duplicate?: true;
  /** A duplicate whose original turn was still running when the gateway stopped waiting for it. */
  readonly pending?: true;
  readonly stopped?: true;
  readonly autoReset?: { readonly reason: string; readonly hadActivity: boolean };
}

/** The body of a refused request. */
export interface ErrorReply {
  readonly error: { readonly code: string; readonly message: string };
}

export interface SendProps {
  readonly messageId?: string | number;
  readonly timestamp?: number;
}

/**
 * One end-to-end file's gateway on one backend: a database of its own and the current child process,
 * which tests kill, restart (same database) and reconfigure. `withDb` gives a direct connection to
 * the same database; on PGlite, whose data folder only one process may hold, it stops the gateway
 * gracefully first and starts it again afterwards.
 */
export class E2EGateway {
  readonly database: E2EDatabase;
  #env: Record<string, string>;
  #process: GatewayProcess | undefined;
  #direct: Database | undefined;

  constructor(database: E2EDatabase, env: Record<string, string>) {
    this.database = database;
    this.#env = env;
  }

  get backend(): TestBackend["name"] {
    return this.database.backend.name;
  }

  get process(): GatewayProcess {
    if (!this.#process) throw new Error("the gateway is not running");
    return this.#process;
  }

  /** Starts a gateway on the database; `env` replaces the extra environment for this and later starts. */
  async start(env?: Record<string, string>): Promise<GatewayProcess> {
    if (this.#process) throw new Error("the gateway is already running");
    if (env) this.#env = env;
    // Generous: on a loaded machine a first start (PGlite initdb, plugin imports) takes a while.
    this.#process = await GatewayProcess.start({ env: this.#processEnv(), readyTimeoutMs: 90_000 });
    return this.#process;
  }

  #processEnv(): Record<string, string> {
    return {
      ENGRAM_GATEWAY_TOKEN: E2E_TOKEN,
      ENGRAM_GATEWAY_EXPIRY_SWEEP_MS: "0",
      ENGRAM_LOG_LEVEL: "info",
      ...this.database.env(),
      ...this.#env,
    };
  }

  /**
   * A second gateway process on the same database (Postgres only: a PGlite folder has one owner),
   * for races between processes. The caller stops it.
   */
  async startPeer(): Promise<GatewayProcess> {
    if (!this.database.sharesConnections) throw new Error("a second process needs a shared database server");
    return GatewayProcess.start({ env: this.#processEnv() });
  }

  /** Stops the gateway: SIGTERM (graceful) or SIGKILL (a crash). */
  async stop(
    signal: NodeJS.Signals = "SIGTERM",
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const running = this.#process;
    this.#process = undefined;
    if (!running) return { code: 0, signal: null };
    return running.kill(signal);
  }

  async restart(
    props: { signal?: NodeJS.Signals; env?: Record<string, string> } = {},
  ): Promise<GatewayProcess> {
    await this.stop(props.signal);
    return this.start(props.env);
  }

  /** Runs `fn` on a direct connection to the gateway's database (see the class comment). */
  async withDb<T>(fn: (db: Database["db"]) => Promise<T>): Promise<T> {
    if (this.database.sharesConnections) {
      this.#direct ??= await this.database.open();
      return fn(this.#direct.db);
    }
    const wasRunning = this.#process !== undefined;
    await this.stop("SIGTERM");
    const direct = await this.database.open();
    try {
      return await fn(direct.db);
    } finally {
      await direct.close();
      if (wasRunning) await this.start();
    }
  }

  async send(source: object, text: string, props: SendProps = {}): Promise<HttpAnswer<MessageReply>> {
    return this.process.post<MessageReply>(
      { source, text, ...props },
      { authorization: `Bearer ${E2E_TOKEN}` },
    );
  }

  /**
   * A session's stored messages in order, read on a direct connection: every row, or only the active
   * ones (what the next turn sees: rewound rows are kept but inactive).
   */
  transcript(
    sessionId: string,
    props: { readonly activeOnly?: boolean } = {},
  ): Promise<Array<{ role: string; content: string | null }>> {
    return this.withDb((db) => {
      let query = db
        .selectFrom("messages")
        .select(["role", "content"])
        .where("session_id", "=", sessionId)
        .orderBy("id");
      if (props.activeOnly) query = query.where("active", "=", true);
      return query.execute();
    });
  }

  /** Sends and expects 200; returns the reply body. */
  async say(source: object, text: string, props: SendProps = {}): Promise<MessageReply> {
    const answer = await this.send(source, text, props);
    if (answer.status !== 200) {
      throw new Error(
        `expected 200 for ${JSON.stringify(text)}, got ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    return answer.body;
  }

  /** The value of one Prometheus sample of `/metrics` (0 when absent). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const { text } = await this.process.get("/metrics");
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of text.split("\n")) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== "{" && rest[0] !== " ") continue;
      if (wanted.every((label) => rest.includes(label))) return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return 0;
  }

  async close(): Promise<void> {
    await this.stop("SIGKILL");
    await this.#direct?.close();
    this.#direct = undefined;
    await this.database.destroy();
  }
}

export interface DescribeE2EProps {
  /** Extra environment of the first start. */
  readonly env?: Record<string, string>;
  /** Do not start a gateway in `beforeAll` (the file starts its own). */
  readonly manualStart?: boolean;
}

/**
 * Registers one `describe(`${name} [backend]`)` per backend of `testBackends()` (PGlite always,
 * Postgres when `DATABASE_URL` is set). Each gets its own database and gateway process, started in
 * `beforeAll` and killed (its database dropped) in `afterAll`.
 */
export function describeE2E(
  name: string,
  body: (gateway: () => E2EGateway) => void,
  props: DescribeE2EProps = {},
): void {
  for (const backend of testBackends()) {
    describe(`${name} [${backend.name}]`, () => {
      let gateway: E2EGateway | undefined;
      beforeAll(async () => {
        await ensureGatewayBuilt();
        gateway = new E2EGateway(await E2EDatabase.create(backend), props.env ?? {});
        if (!props.manualStart) await gateway.start();
      });
      afterAll(async () => {
        await gateway?.close();
        gateway = undefined;
      });
      body(() => {
        if (!gateway) throw new Error(`${name} [${backend.name}]: the gateway is not set up yet`);
        return gateway;
      });
    });
  }
}
