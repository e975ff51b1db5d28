/**
 * Boots the gateway from the environment (see `gatewayConfigFromEnv`) and `engram.config.json` (see
 * `@engram/sessions`): opens PostgreSQL (`DATABASE_URL`) or the embedded PGlite database
 * (`ENGRAM_DATA_DIR`), migrates it, composes the host (memory plugins by package name), listens, and
 * stops gracefully on SIGINT/SIGTERM. `--check-config` validates all of it without opening the
 * database, prints what would run and exits 0, or 1 with every problem listed.
 */
// The gateway process's composition root: tsyringe (through @engram/sessions) needs this polyfill
// loaded before it, so it comes first.
import "reflect-metadata";
import { fileURLToPath } from "node:url";
import { describeChatModel } from "@engram/agent";
import { portInUseFrom } from "@engram/core";
import { composeHost, formatHostSummary } from "@engram/sessions";
import { openMigratedDatabase } from "@engram/store";
import type { FastifyBaseLogger } from "fastify";
import { pino } from "pino";
import { createGateway } from "./app/create-gateway.js";
import { OffsetFileClock } from "./app/offset-file-clock.js";
import { gatewayConfigFromEnv, isLoopbackHost } from "./config/gateway-config.js";

/** This package's folder: the first-party plugins are its dependencies. */
const APP_DIR = fileURLToPath(new URL("..", import.meta.url));

async function main(): Promise<void> {
  const config = gatewayConfigFromEnv();
  // Every configuration problem (engram.config.json, the plugins', the adapters') is reported before
  // the database is touched: composed once without it (no plugin does I/O before it is used).
  const checked = await composeHost({ appDirs: [APP_DIR], loadAdapters: true });
  await checked.close();
  if (process.argv.includes("--check-config")) {
    console.log(["Gateway configuration is valid:", ...formatHostSummary(checked.describe())].join("\n"));
    return;
  }
  let log: FastifyBaseLogger | undefined;
  // Refuses an embedded folder another process owns, and names DATABASE_URL when its server is unusable.
  const database = await openMigratedDatabase({
    ...(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir }),
    // Names this process's connections in pg_stat_activity, for operators (and the connection-drop test).
    applicationName: "engram-gateway",
    // Survived (the pool and the session-key lock open new connections), but worth a line in the log.
    // Code and message only: pg hangs the whole client object on a pooled connection's error.
    onPoolError: (error) =>
      log?.warn(
        { code: (error as { code?: string }).code, reason: error.message },
        "database connection lost",
      ),
  });
  // Test-only: end-to-end suites move the running gateway's clock through a file (see OffsetFileClock).
  const clockFile = process.env.ENGRAM_TEST_CLOCK_FILE?.trim();
  const host = await composeHost({
    db: database.db,
    logger: pino({ level: config.logLevel }),
    appDirs: [APP_DIR],
    loadAdapters: true,
    ...(clockFile ? { clock: new OffsetFileClock(clockFile) } : {}),
  }).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  const gateway = createGateway({
    config,
    db: database.db,
    host,
    // Turns of one key must not interleave when several gateways share one Postgres database.
    keyLock: database.sessionKeyLock(),
    logger: { level: config.logLevel },
  });
  log = gateway.server.log;
  for (const adapter of gateway.adapters)
    gateway.server.log.info({ platform: adapter.platform }, "adapter enabled");
  const model = describeChatModel();
  gateway.server.log.info({ model: model.summary }, "model");
  for (const warning of model.warnings) gateway.server.log.warn(warning);
  if (!config.token && isLoopbackHost(config.host)) {
    gateway.server.log.warn("no ENGRAM_GATEWAY_TOKEN: /v1 is open to anyone on this machine (dev mode)");
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.server.log.info({ signal }, "stopping");
    await gateway.close();
    await host.close();
    await database.close();
    process.exit(0);
  };
  // `on`, not `once`: under `pnpm run` one Ctrl-C arrives twice (from the terminal and forwarded by
  // pnpm), and a second signal without a listener would kill the process in the middle of its drain.
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Restores after the previous run (continuations queued first), then listens and starts adapters.
  const { address } = await gateway
    .listen({ host: config.host, port: config.port })
    .catch(async (error: unknown) => {
      await gateway.close({ drainDeadlineMs: 5_000 }).catch(() => undefined);
      await host.close().catch(() => undefined);
      await database.close();
      throw (
        portInUseFrom(error, { host: config.host, port: config.port, variable: "ENGRAM_GATEWAY_PORT" }) ??
        error
      );
    });
  gateway.server.log.info(
    { memory: host.memory, model: host.model.id },
    [
      `gateway listening on ${address}`,
      ...formatHostSummary(host.describe(), {
        adapters: ["http", ...gateway.adapters.map((adapter) => adapter.platform)],
      }),
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  // Configuration errors carry every issue in the message; print it plainly and exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
