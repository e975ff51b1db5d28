/**
 * Boots the web server alone from the environment (see `webConfigFromEnv`): opens PostgreSQL
 * (`DATABASE_URL`) or the embedded PGlite database (`ENGRAM_DATA_DIR`), migrates it, listens, and stops
 * gracefully on SIGINT/SIGTERM (memory drained). `pnpm start` at the repository root runs it together
 * with the gateway in one process instead.
 */
import { createDatabase, listenForTranscriptChanges, migrateStore } from "@engram/store";
import { createWebApp } from "./app/create-web-app.js";
import { webConfigFromEnv } from "./config/web-config.js";

async function main(): Promise<void> {
  const config = webConfigFromEnv();
  const database = await createDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  await migrateStore(database.db);
  const app = createWebApp({
    config,
    db: database.db,
    logger: { level: config.logLevel },
    transcriptChanges: (onChange) => listenForTranscriptChanges(database, onChange),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.server.log.info({ signal }, "stopping");
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  await app.server.listen({ host: config.host, port: config.port });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
