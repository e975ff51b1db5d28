/**
 * Boots the web server alone from the environment (see `webConfigFromEnv`): opens PostgreSQL
 * (`DATABASE_URL`) or the embedded PGlite database (`ENGRAM_DATA_DIR`), migrates it, listens, and stops
 * gracefully on SIGINT/SIGTERM (memory drained). `pnpm start` at the repository root runs it together
 * with the gateway in one process instead.
 */
import { describeChatModel } from "@engram/agent";
import { portInUseFrom } from "@engram/core";
import { listenForTranscriptChanges, openMigratedDatabase } from "@engram/store";
import type { FastifyBaseLogger } from "fastify";
import { createWebApp } from "./app/create-web-app.js";
import { webConfigFromEnv } from "./config/web-config.js";

async function main(): Promise<void> {
  const config = webConfigFromEnv();
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
  const app = createWebApp({
    config,
    db: database.db,
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
  await app.server.listen({ host: config.host, port: config.port }).catch(async (error: unknown) => {
    await app.close().catch(() => undefined);
    await database.close();
    throw (
      portInUseFrom(error, { host: config.host, port: config.port, variable: "ENGRAM_WEB_PORT" }) ?? error
    );
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
