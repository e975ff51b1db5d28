/**
 * Time from starting the shipped executable (`node dist/main.js`, what `pnpm start` runs after its
 * build step) to both servers answering their health checks, on the embedded database: the first start
 * (empty data folder: PGlite initdb + migrations) and a second start on the same folder.
 * Targets: < 15 s first, < 5 s after.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { report } from "@engram/bench";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

async function startOnce(dataDir: string, gatewayPort: number, webPort: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: "",
      ENGRAM_DATA_DIR: dataDir,
      ENGRAM_GATEWAY_PORT: String(gatewayPort),
      ENGRAM_WEB_PORT: String(webPort),
    },
    stdio: "ignore",
  });
  try {
    const healthy = async (url: string) => (await fetch(url).catch(() => undefined))?.ok === true;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`launcher exited with ${child.exitCode}`);
      if (
        (await healthy(`http://127.0.0.1:${webPort}/api/health`)) &&
        (await healthy(`http://127.0.0.1:${gatewayPort}/health`))
      ) {
        return performance.now() - started;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "engram-start-"));
try {
  const first = await startOnce(dataDir, 18787, 18788);
  const second = await startOnce(dataDir, 18787, 18788);
  report({
    bench: "launcher.start-to-healthy",
    backend: "pglite",
    firstStartMs: Math.round(first),
    secondStartMs: Math.round(second),
    target: "first < 15000 ms, after < 5000 ms",
  });
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
