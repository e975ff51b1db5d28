import { createServer } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type ChatModelDescription, describeChatModel } from "@engram/agent";
import {
  type ConfigProblem,
  InvalidConfigError,
  isInvalidConfigError,
  type ListenTarget,
  portInUseFrom,
} from "@engram/core";
import { createGateway, type Gateway, type GatewayConfig, gatewayConfigFromEnv } from "@engram/gateway";
import { composeHost, type EngramHost } from "@engram/sessions";
import { type Database, listenForTranscriptChanges, openMigratedDatabase } from "@engram/store";
import { createWebApp, type WebApp, type WebConfig, webConfigFromEnv } from "@engram/web";
import { pino } from "pino";

/** This package's folder: plugin names resolve from here after the config file's folder. */
export const LAUNCHER_DIR = fileURLToPath(new URL("..", import.meta.url));

/** How configuration errors name this program: the person ran `pnpm start`, not "the gateway". */
export const LAUNCHER_APP_NAME = "Engram (pnpm start: the gateway and the web server)";

export interface LaunchProps {
  /** Configuration, as environment variables (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Fastify logger option for both servers (default: warnings and errors). */
  readonly logLevel?: string;
  /** Where `engram.config.json` is looked for (default: the working directory, then `INIT_CWD`). */
  readonly cwd?: string;
}

export interface Engram {
  readonly gatewayUrl: string;
  readonly webUrl: string;
  readonly gateway: Gateway;
  readonly web: WebApp;
  /** The one host both servers are composed on: the model and the memory plugins of the configuration. */
  readonly host: EngramHost;
  readonly database: Database;
  /** Where the embedded database lives (`undefined` on PostgreSQL). */
  readonly dataDir: string | undefined;
  /** From the call to both servers answering. */
  readonly startedInMs: number;
  /** Which model answers turns (the offline stand-in unless `ENGRAM_MODEL` is set). */
  readonly model: ChatModelDescription;
  /** Graceful stop: both servers drain (memory committed before the deadline), then the database closes. */
  close(props?: { readonly drainDeadlineMs?: number }): Promise<void>;
}

/**
 * The environment both servers read: `source` with the launcher's defaults (the embedded database
 * under the folder `pnpm start` was typed in; a loopback-only development gateway without a token).
 */
export function launchEnv(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...source,
    ENGRAM_DATA_DIR: source.ENGRAM_DATA_DIR || join(source.INIT_CWD || process.cwd(), ".engram", "data"),
    // Without a token the gateway only serves loopback, as a development server.
    ...(source.ENGRAM_GATEWAY_TOKEN ? {} : { ENGRAM_GATEWAY_DEV: "1" }),
  };
}

/**
 * Starts the gateway and the web server in one process over one database: PostgreSQL when
 * `DATABASE_URL` is set, else the embedded PGlite database in `ENGRAM_DATA_DIR` (default `.engram/data`
 * under the directory `pnpm start` ran in). PGlite is single-process, so sharing the process is also
 * what lets the web UI show the gateway's sessions live. Both servers share one host (`composeHost`:
 * one container with the database's ports, the model and the memory plugins `engram.config.json`
 * names); a plugin problem rejects with an error listing every problem.
 *
 * Fails before the database is opened when the configuration is invalid (every problem of both
 * servers in one `InvalidConfigError` naming this program) or a port is taken (`PortInUseError`
 * naming its variable); an embedded folder another process owns is refused before it is read
 * (`DataDirLockedError`), and an unusable `DATABASE_URL` is named (`DatabaseUnavailableError`).
 */
export async function launchEngram(props: LaunchProps = {}): Promise<Engram> {
  const started = performance.now();
  const env = launchEnv(props.env ?? process.env);
  const { gatewayConfig, webConfig } = launcherConfigFromEnv(env);
  const gatewayTarget: ListenTarget = {
    host: gatewayConfig.host,
    port: gatewayConfig.port,
    variable: "ENGRAM_GATEWAY_PORT",
  };
  const webTarget: ListenTarget = { host: webConfig.host, port: webConfig.port, variable: "ENGRAM_WEB_PORT" };
  // A run that cannot listen must not open (and migrate) the database first.
  await assertPortFree(gatewayTarget);
  await assertPortFree(webTarget);
  let log: ((error: Error) => void) | undefined;
  const database = await openMigratedDatabase({
    ...(gatewayConfig.databaseUrl ? { url: gatewayConfig.databaseUrl } : { dataDir: gatewayConfig.dataDir }),
    // Names this process's connections in pg_stat_activity, for operators.
    applicationName: "engram",
    // Survived (the pool, the key lock and the LISTEN connection reconnect), but worth a line in the log.
    onPoolError: (error) => log?.(error),
  });
  let host: EngramHost | undefined;
  try {
    const logger = { level: props.logLevel ?? "warn" };
    host = await composeHost({
      db: database.db,
      env,
      ...(props.cwd ? { cwd: props.cwd } : {}),
      logger: pino(logger),
      appDirs: [LAUNCHER_DIR],
      loadAdapters: true,
    });
    const composed = host;
    const gateway = createGateway({
      config: gatewayConfig,
      db: database.db,
      host,
      logger,
      // Turns of one key stay serialised even beside a standalone gateway on the same Postgres.
      keyLock: database.sessionKeyLock(),
    });
    // Code and message only: pg hangs the whole client object on a pooled connection's error.
    log = (error) =>
      gateway.server.log.warn(
        { code: (error as { code?: string }).code, reason: error.message },
        "database connection lost",
      );
    const web = createWebApp({
      config: webConfig,
      db: database.db,
      host,
      logger,
      transcriptChanges: (onChange) => listenForTranscriptChanges(database, onChange),
    });
    let closing: Promise<void> | undefined;
    const close = (closeProps: { readonly drainDeadlineMs?: number } = {}) => {
      closing ??= (async () => {
        await Promise.allSettled([gateway.close(closeProps), web.close(closeProps)]);
        // After both servers: every agent's providers are shut down by then.
        await composed.close();
        await database.close();
      })();
      return closing;
    };
    try {
      await web.ready;
      // listen() restores after an unclean stop first (continuations queued), then starts the adapters.
      const { address: gatewayUrl } = await gateway
        .listen({ host: gatewayConfig.host, port: gatewayConfig.port })
        .catch((error: unknown) => Promise.reject(portInUseFrom(error, gatewayTarget) ?? error));
      const webUrl = await web.server
        .listen({ host: webConfig.host, port: webConfig.port })
        .catch((error: unknown) => Promise.reject(portInUseFrom(error, webTarget) ?? error));
      return {
        gatewayUrl,
        webUrl,
        gateway,
        web,
        host: composed,
        database,
        dataDir: gatewayConfig.databaseUrl ? undefined : gatewayConfig.dataDir,
        startedInMs: performance.now() - started,
        model: describeChatModel(env),
        close,
      };
    } catch (error) {
      // Stop what started (the gateway may listen already), so the process can exit and the
      // embedded folder is released.
      await close({ drainDeadlineMs: 5_000 });
      throw error;
    }
  } catch (error) {
    await host?.close().catch(() => undefined);
    await database.close();
    throw error;
  }
}

/**
 * Both servers' configuration from one environment. Every problem of either is reported in one
 * error naming this program; a setting both read (`DATABASE_URL`, `ENGRAM_DATA_DIR`) is listed once.
 *
 * @throws InvalidConfigError (code `INVALID_CONFIG`).
 */
export function launcherConfigFromEnv(env: NodeJS.ProcessEnv): {
  gatewayConfig: GatewayConfig;
  webConfig: WebConfig;
} {
  const problems: ConfigProblem[] = [];
  const collect = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!isInvalidConfigError(error)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const gatewayConfig = collect(() => gatewayConfigFromEnv(env, { app: LAUNCHER_APP_NAME }));
  const webConfig = collect(() => webConfigFromEnv(env, { app: LAUNCHER_APP_NAME }));
  if (!gatewayConfig || !webConfig) throw new InvalidConfigError(LAUNCHER_APP_NAME, problems);
  return { gatewayConfig, webConfig };
}

/** Fails with a `PortInUseError` naming the port's variable when another process listens there. */
async function assertPortFree(target: ListenTarget): Promise<void> {
  if (target.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error) => reject(portInUseFrom(error, target) ?? error));
    probe.listen({ host: target.host, port: target.port, exclusive: true }, () => resolve());
  });
  await new Promise((resolve) => probe.close(resolve));
}
