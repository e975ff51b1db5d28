import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createGateway, type Gateway, gatewayConfigFromEnv } from "@engram/gateway";
import { createDatabase, type Database, listenForTranscriptChanges, migrateStore } from "@engram/store";
import { createWebApp, type WebApp, webConfigFromEnv } from "@engram/web";

export interface LaunchProps {
  /** Configuration, as environment variables (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Fastify logger option for both servers (default: warnings and errors). */
  readonly logLevel?: string;
}

export interface Engram {
  readonly gatewayUrl: string;
  readonly webUrl: string;
  readonly gateway: Gateway;
  readonly web: WebApp;
  readonly database: Database;
  /** Where the embedded database lives (`undefined` on PostgreSQL). */
  readonly dataDir: string | undefined;
  /** From the call to both servers answering. */
  readonly startedInMs: number;
  /** Graceful stop: both servers drain (memory committed before the deadline), then the database closes. */
  close(props?: { readonly drainDeadlineMs?: number }): Promise<void>;
}

/**
 * Starts the gateway and the web server in one process over one database: PostgreSQL when
 * `DATABASE_URL` is set, else the embedded PGlite database in `ENGRAM_DATA_DIR` (default `.engram/data`
 * under the directory `pnpm start` ran in). PGlite is single-process, so sharing the process is also
 * what lets the web UI show the gateway's sessions live.
 */
export async function launchEngram(props: LaunchProps = {}): Promise<Engram> {
  const started = performance.now();
  const source = props.env ?? process.env;
  const env: NodeJS.ProcessEnv = {
    ...source,
    ENGRAM_DATA_DIR: source.ENGRAM_DATA_DIR || join(source.INIT_CWD || process.cwd(), ".engram", "data"),
    // Without a token the gateway only serves loopback, as a development server.
    ...(source.ENGRAM_GATEWAY_TOKEN ? {} : { ENGRAM_GATEWAY_DEV: "1" }),
  };
  const gatewayConfig = gatewayConfigFromEnv(env);
  const webConfig = webConfigFromEnv(env);
  let log: ((error: Error) => void) | undefined;
  const database = await createDatabase({
    ...(gatewayConfig.databaseUrl ? { url: gatewayConfig.databaseUrl } : { dataDir: gatewayConfig.dataDir }),
    // Names this process's connections in pg_stat_activity, for operators.
    applicationName: "engram",
    // Survived (the pool, the key lock and the LISTEN connection reconnect), but worth a line in the log.
    onPoolError: (error) => log?.(error),
  });
  try {
    await migrateStore(database.db);
    const logger = { level: props.logLevel ?? "warn" };
    const gateway = createGateway({
      config: gatewayConfig,
      db: database.db,
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
    return {
      gatewayUrl,
      webUrl,
      gateway,
      web,
      database,
      dataDir: gatewayConfig.databaseUrl ? undefined : gatewayConfig.dataDir,
      startedInMs: performance.now() - started,
      close(closeProps = {}) {
        closing ??= (async () => {
          await Promise.allSettled([gateway.close(closeProps), web.close(closeProps)]);
          await database.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
