import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { createGateway, type Gateway, gatewayConfigFromEnv } from "@engram/gateway";
import { composeHost, type EngramHost } from "@engram/sessions";
import { createDatabase, type Database, listenForTranscriptChanges, migrateStore } from "@engram/store";
import { createWebApp, type WebApp, webConfigFromEnv } from "@engram/web";
import { pino } from "pino";

/** This package's folder: plugin names resolve from here after the config file's folder. */
export const LAUNCHER_DIR = fileURLToPath(new URL("..", import.meta.url));

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
 * names); a configuration problem rejects with an `EngramConfigError` listing every problem.
 */
export async function launchEngram(props: LaunchProps = {}): Promise<Engram> {
  const started = performance.now();
  const env = launchEnv(props.env ?? process.env);
  const gatewayConfig = gatewayConfigFromEnv(env);
  const webConfig = webConfigFromEnv(env);
  const database = await createDatabase(
    gatewayConfig.databaseUrl ? { url: gatewayConfig.databaseUrl } : { dataDir: gatewayConfig.dataDir },
  );
  let host: EngramHost | undefined;
  try {
    await migrateStore(database.db);
    const logger = { level: props.logLevel ?? "warn" };
    host = await composeHost({
      db: database.db,
      env,
      ...(props.cwd ? { cwd: props.cwd } : {}),
      logger: pino(logger),
      appDirs: [LAUNCHER_DIR],
    });
    const gateway = createGateway({
      config: gatewayConfig,
      db: database.db,
      host,
      logger,
      // Turns of one key stay serialised even beside a standalone gateway on the same Postgres.
      keyLock: database.sessionKeyLock(),
    });
    const web = createWebApp({
      config: webConfig,
      db: database.db,
      host,
      logger,
      transcriptChanges: (onChange) => listenForTranscriptChanges(database, onChange),
    });
    await web.ready;
    // listen() restores after an unclean stop first (continuations queued), then starts the adapters.
    const { address: gatewayUrl } = await gateway.listen({
      host: gatewayConfig.host,
      port: gatewayConfig.port,
    });
    const webUrl = await web.server.listen({ host: webConfig.host, port: webConfig.port });
    let closing: Promise<void> | undefined;
    const composed = host;
    return {
      gatewayUrl,
      webUrl,
      gateway,
      web,
      host: composed,
      database,
      dataDir: gatewayConfig.databaseUrl ? undefined : gatewayConfig.dataDir,
      startedInMs: performance.now() - started,
      close(closeProps = {}) {
        closing ??= (async () => {
          await Promise.allSettled([gateway.close(closeProps), web.close(closeProps)]);
          // After both servers: every agent's providers are shut down by then.
          await composed.close();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await host?.close();
    await database.close();
    throw error;
  }
}
