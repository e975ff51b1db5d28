/**
 * `pnpm start` as a person runs it, with an `engram.config.json` in the folder it starts from: the
 * launcher executable loads the plugins it names by package name. Hindsight against the testkit's
 * stand-in server: the gateway's turns are mirrored there, in the sender's bank. A misconfiguration
 * stops `--check-config` (and start-up) with every problem listed and a non-zero exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type HindsightServer, startHindsightServer } from "@engram/testkit/hindsight-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** This process's environment without anything that would configure the launcher. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name === "DATABASE_URL" || name === "INIT_CWD" || name.startsWith("ENGRAM_"))
      continue;
    env[name] = value;
  }
  return { ...env, ENGRAM_GATEWAY_PORT: "0", ENGRAM_WEB_PORT: "0", ...extra };
}

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function run(cwd: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = run.output().match(pattern);
    if (match) return match;
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`launcher never printed ${pattern}; output:\n${run.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the launcher executable with engram.config.json", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "engram-launch-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = (providers: object[]) =>
    writeFileSync(join(dir, "engram.config.json"), JSON.stringify({ memory: { providers } }));

  describe("naming Hindsight", () => {
    let server: HindsightServer;
    let launched: Run | undefined;
    beforeAll(async () => {
      server = await startHindsightServer();
    });
    afterEach(async () => {
      if (launched && launched.child.exitCode === null) launched.child.kill("SIGKILL");
      await launched?.exited;
      launched = undefined;
    });
    afterAll(async () => {
      await server?.close();
    });

    it("mirrors the gateway's turns into the Hindsight server, in the sender's bank, and stops cleanly", async () => {
      config([
        {
          plugin: "@engram/provider-hindsight",
          config: { mode: "external", baseUrl: server.url, bankIdTemplate: "engram-{scope}" },
        },
      ]);
      launched = run(dir, [], cleanEnv({ ENGRAM_DATA_DIR: join(dir, "data") }));
      const [, gatewayUrl] = await until(launched, /gateway: +(http:\/\/\S+)/, 120_000);
      const banner = await until(launched, /Press Ctrl-C to stop\./, 5_000);
      expect(banner).toBeTruthy();
      expect(launched.output()).toMatch(
        /memory: +hindsight \(@engram\/provider-hindsight [^)]*\): available/,
      );
      expect(launched.output()).toContain(`config:    ${join(dir, "engram.config.json")}`);

      const source = { platform: "telegram", chatId: "5101", chatType: "dm", userId: "5101" };
      const response = await fetch(`${gatewayUrl}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ source, text: "I prefer the cedar-kestrel terminal font." }),
      });
      expect(response.status).toBe(200);
      // The provider's writer retains in the background, right after the turn.
      const retained = () =>
        JSON.stringify(
          server.requests
            .filter(
              (r) => r.method === "POST" && r.path === "/v1/default/banks/engram-telegram-user-5101/memories",
            )
            .map((r) => r.body),
        );
      const deadline = Date.now() + 20_000;
      while (!retained().includes("cedar-kestrel") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(retained()).toContain("cedar-kestrel");

      launched.child.kill("SIGINT");
      expect(await launched.exited).toBe(0);
      expect(launched.output()).toContain("stopped.");
    });
  });

  it("--check-config prints what would run and exits 0", async () => {
    config([
      { plugin: "@engram/provider-holographic", config: { autoExtract: true } },
      { plugin: "@engram/provider-openviking", config: { baseUrl: "http://127.0.0.1:1933" } },
    ]);
    const checked = run(dir, ["--check-config"], cleanEnv({}));
    expect(await checked.exited).toBe(0);
    expect(checked.output()).toContain("Engram configuration is valid:");
    expect(checked.output()).toMatch(/holographic \(@engram\/provider-holographic [^)]*\): available/);
    expect(checked.output()).toMatch(/openviking \(@engram\/provider-openviking [^)]*\): available/);
  });

  it("refuses to start with every problem listed and a non-zero exit", async () => {
    config([
      { plugin: "@engram/provider-nowhere" },
      { plugin: "@engram/provider-hindsight", config: { mode: "moon" } },
    ]);
    for (const args of [["--check-config"], []]) {
      const refused = run(dir, args, cleanEnv({ ENGRAM_DATA_DIR: join(dir, "data-refused") }));
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain("Engram cannot start: 2 configuration problems");
      expect(refused.output()).toContain(
        'memory.providers[0].plugin: cannot find package "@engram/provider-nowhere"',
      );
      expect(refused.output()).toContain("memory.providers[1].config.mode:");
    }
  }, 120_000);
});
