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
  const host = await composeHost({ env, appDirs: [LAUNCHER_DIR], loadAdapters: true });
  console.log(["Engram configuration is valid:", ...formatHostSummary(host.describe())].join("\n"));
  await host.close();
}

/** A repeated signal this soon after the first is the same Ctrl-C delivered twice (terminal and pnpm). */
const DUPLICATE_SIGNAL_MS = 1_000;

async function main(): Promise<void> {
  if (process.argv.includes("--check-config")) return checkConfig();
  const engram = await launchEngram();
  const where = engram.dataDir ? `embedded database in ${engram.dataDir}` : "PostgreSQL (DATABASE_URL)";
  console.log(
    [
      `Engram is running (${where}), ready in ${Math.round(engram.startedInMs)} ms`,
      `  web UI:    ${engram.webUrl}`,
      `  gateway:   ${engram.gatewayUrl}  (POST /v1/messages)`,
      ...formatHostSummary(engram.host.describe(), {
        model: engram.model.summary,
        adapters: ["http", "web", ...engram.gateway.adapters.map((adapter) => adapter.platform)],
      }),
      ...engram.model.warnings.map((warning) => `  warning:   ${warning}`),
      "Press Ctrl-C to stop.",
    ].join("\n"),
  );
  let stoppingSince: number | undefined;
  const stop = async (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // A second Ctrl-C from the person (not the copy pnpm forwards): give up on the drain. The next
      // start restores what this run left unfinished.
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_MS) return;
      console.log(`\n${signal} again: stopping now, without waiting for memory to be committed.`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping, committing memory... (Ctrl-C again to stop at once)`);
    await engram.close({ drainDeadlineMs: 20_000 });
    console.log("stopped.");
    process.exit(0);
  };
  // `on`, not `once`: pnpm forwards the terminal's SIGINT, so one Ctrl-C arrives twice, and a signal
  // without a listener would kill the process in the middle of its drain.
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  // Start-up errors (configuration, a taken port, a locked data folder, an unusable DATABASE_URL) are
  // written for the person who runs this: print the message alone, without a stack.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
