/**
 * `pnpm start`: the gateway and the web server in one process over the embedded database (or
 * `DATABASE_URL`), with the memory providers `engram.config.json` names (Holographic without one) and
 * the offline model unless `ENGRAM_MODEL*` is set. Ctrl-C stops both gracefully: running turns end and
 * memory is committed before the process exits. `--check-config` validates the configuration (the
 * servers' environment and every plugin) without opening the database, prints what would run and exits
 * 0, or 1 with every problem listed.
 */
// The launcher's composition root: tsyringe (through @engram/sessions) needs this polyfill loaded
// before it, so it comes first.
import "reflect-metadata";
import { gatewayConfigFromEnv } from "@engram/gateway";
import { composeHost, formatHostSummary } from "@engram/sessions";
import { webConfigFromEnv } from "@engram/web";
import { LAUNCHER_DIR, launchEngram, launchEnv } from "./launch.js";

async function checkConfig(): Promise<void> {
  const env = launchEnv(process.env);
  gatewayConfigFromEnv(env);
  webConfigFromEnv(env);
  const host = await composeHost({ env, appDirs: [LAUNCHER_DIR] });
  console.log(["Engram configuration is valid:", ...formatHostSummary(host.describe())].join("\n"));
  await host.close();
}

async function main(): Promise<void> {
  if (process.argv.includes("--check-config")) return checkConfig();
  const engram = await launchEngram();
  const where = engram.dataDir ? `embedded database in ${engram.dataDir}` : "PostgreSQL";
  console.log(
    [
      `Engram is running (${where}), ready in ${Math.round(engram.startedInMs)} ms`,
      `  web UI:    ${engram.webUrl}`,
      `  gateway:   ${engram.gatewayUrl}  (POST /v1/messages)`,
      ...formatHostSummary(engram.host.describe(), {
        adapters: ["http", "web", ...engram.gateway.adapters.map((adapter) => adapter.platform)],
      }),
      "Press Ctrl-C to stop.",
    ].join("\n"),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping, committing memory...`);
    await engram.close({ drainDeadlineMs: 20_000 });
    console.log("stopped.");
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  // Configuration errors carry every problem in the message; print it plainly and exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
