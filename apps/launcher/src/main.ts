/**
 * `pnpm start`: the gateway and the web server in one process over the embedded database (or
 * `DATABASE_URL`), with the Holographic provider and the offline model unless `ENGRAM_MODEL*` is set.
 * Ctrl-C stops both gracefully: running turns end and memory is committed before the process exits.
 */
import { launchEngram } from "./launch.js";

async function main(): Promise<void> {
  const engram = await launchEngram();
  const where = engram.dataDir ? `embedded database in ${engram.dataDir}` : "PostgreSQL";
  console.log(
    [
      `Engram is running (${where}), ready in ${Math.round(engram.startedInMs)} ms`,
      `  web UI:   ${engram.webUrl}`,
      `  gateway:  ${engram.gatewayUrl}  (POST /v1/messages)`,
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
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
