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
import { composeHost, formatHostSummary } from "@engram/sessions";
import { createDatabase, listenForTranscriptChanges, migrateStore } from "@engram/store";
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
  const database = await createDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  await migrateStore(database.db);
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
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  const address = await app.server.listen({ host: config.host, port: config.port });
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
