/**
 * Boots the web server alone from the environment (see `webConfigFromEnv`) and `engram.config.json`
 * (see `@engram/sessions`): opens PostgreSQL (`DATABASE_URL`) or the embedded PGlite database
 * (`ENGRAM_DATA_DIR`), migrates it, composes the host (memory plugins by package name), listens, and
 * stops gracefully on SIGINT/SIGTERM (memory drained). `--check-config` validates without opening the
 * database and exits 0, or 1 with every problem listed. `pnpm start` at the repository root runs it
 * together with the gateway in one process instead.
 */
// The web process's composition root: tsyringe (through @engram/sessions) needs this polyfill loaded
// before it, so it comes first.
import "reflect-metadata";
import { fileURLToPath } from "node:url";
import { describeChatModel } from "@engram/agent";
import { portInUseFrom } from "@engram/core";
import { composeHost, formatHostSummary } from "@engram/sessions";
import { listenForTranscriptChanges, openMigratedDatabase } from "@engram/store";
import type { FastifyBaseLogger } from "fastify";
import { pino } from "pino";
import { createWebApp } from "./app/create-web-app.js";
import { webConfigFromEnv } from "./config/web-config.js";

/** This package's folder: the first-party plugins are its dependencies. */
const APP_DIR = fileURLToPath(new URL("..", import.meta.url));

async function main(): Promise<void> {
  const config = webConfigFromEnv();
  if (process.argv.includes("--check-config")) {
    const host = await composeHost({ appDirs: [APP_DIR] });
    console.log(["Web configuration is valid:", ...formatHostSummary(host.describe())].join("\n"));
    await host.close();
    return;
  }
  let log: FastifyBaseLogger | undefined;
  // Refuses an embedded folder another process owns, and names DATABASE_URL when its server is unusable.
  const database = await openMigratedDatabase({
    ...(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir }),
    // Names this process's connections in pg_stat_activity, for operators.
    applicationName: "engram-web",
    // Survived (the pool and the LISTEN connection reconnect), but worth a line in the log.
    // Code and message only: pg hangs the whole client object on a pooled connection's error.
    onPoolError: (error) =>
      log?.warn(
        { code: (error as { code?: string }).code, reason: error.message },
        "database connection lost",
      ),
  });
  const host = await composeHost({
    db: database.db,
    logger: pino({ level: config.logLevel }),
    appDirs: [APP_DIR],
  }).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  const app = createWebApp({
    config,
    db: database.db,
    host,
    logger: { level: config.logLevel },
    transcriptChanges: (onChange) => listenForTranscriptChanges(database, onChange),
  });
  log = app.server.log;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.server.log.info({ signal }, "stopping");
    await app.close();
    await host.close();
    await database.close();
    process.exit(0);
  };
  // `on`, not `once`: under `pnpm run` one Ctrl-C arrives twice (from the terminal and forwarded by
  // pnpm), and a second signal without a listener would kill the process in the middle of its drain.
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  const model = describeChatModel();
  app.server.log.info({ model: model.summary }, "model");
  for (const warning of model.warnings) app.server.log.warn(warning);
  // Restored after the previous run before the first request: a killed run's memory is adoptable.
  await app.ready;
  const address = await app.server
    .listen({ host: config.host, port: config.port })
    .catch(async (error: unknown) => {
      await app.close().catch(() => undefined);
      await host.close().catch(() => undefined);
      await database.close();
      throw (
        portInUseFrom(error, { host: config.host, port: config.port, variable: "ENGRAM_WEB_PORT" }) ?? error
      );
    });
  app.server.log.info(
    { memory: host.memory, model: host.model.id },
    [`web server listening on ${address}`, ...formatHostSummary(host.describe(), { adapters: ["web"] })].join(
      "\n",
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
