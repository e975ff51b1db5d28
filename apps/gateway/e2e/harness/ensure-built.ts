import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GATEWAY_MAIN } from "./gateway-process.js";

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
let building: Promise<void> | undefined;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/**
 * The suite tests the built executable, as it is shipped. CI builds before testing; on a developer
 * machine a missing or stale `dist/main.js` (older than a source file) is rebuilt once per process.
 * Dependencies are expected built (`turbo` runs `^build` before `test`).
 */
export function ensureGatewayBuilt(): Promise<void> {
  building ??= (async () => {
    if (
      existsSync(GATEWAY_MAIN) &&
      statSync(GATEWAY_MAIN).mtimeMs >= newestSource(join(PACKAGE_DIR, "src"))
    ) {
      return;
    }
    await promisify(execFile)("pnpm", ["run", "build"], { cwd: PACKAGE_DIR }).catch((error: unknown) => {
      const failure = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `building the gateway failed: ${failure.message}\n${failure.stdout ?? ""}${failure.stderr ?? ""}`,
      );
    });
  })();
  return building;
}
