/**
 * Start-up errors of `pnpm start` speak to the person who ran it: the configuration error names the
 * launcher (not "gateway configuration") and lists every problem of both servers at once, a taken
 * port names its variable, an unusable DATABASE_URL is named; none of them opens the data folder.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LAUNCHER_APP_NAME, launchEngram } from "./launch.js";

describe("launchEngram start-up errors", () => {
  let dir: string;
  let dataDir: string;
  const servers: Server[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "engram-launch-"));
    dataDir = join(dir, "data");
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ({
    DATABASE_URL: "",
    ENGRAM_DATA_DIR: dataDir,
    ENGRAM_GATEWAY_PORT: "0",
    ENGRAM_WEB_PORT: "0",
    ENGRAM_MODEL: "",
  });
  const failureOf = async (env: NodeJS.ProcessEnv) => {
    const outcome = await launchEngram({ env: { ...base(), ...env } }).then(
      async (engram) => {
        await engram.close();
        return undefined;
      },
      (error: unknown) => error as Error & { code: string; details: Record<string, unknown> },
    );
    if (!outcome) return expect.unreachable("the launcher started");
    return outcome;
  };
  const listening = async (): Promise<number> => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as { port: number }).port;
  };

  it("lists every problem of both servers in one error that names the launcher, each with its variable", async () => {
    const failure = await failureOf({
      ENGRAM_GATEWAY_PORT: "70000",
      ENGRAM_WEB_PORT: "eighty",
      ENGRAM_GATEWAY_TOKEN: "short",
      DATABASE_URL: "mysql://db",
    });
    expect(failure).toMatchObject({ code: "INVALID_CONFIG", details: { app: LAUNCHER_APP_NAME } });
    expect(failure.message).toMatch(/^Invalid configuration of Engram \(pnpm start/);
    expect(failure.message).not.toMatch(/gateway configuration|web configuration/i);
    const issues = failure.details.issues as string[];
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ENGRAM_GATEWAY_PORT \(port\): /),
        "ENGRAM_GATEWAY_TOKEN (token): must be at least 16 characters",
        "DATABASE_URL (databaseUrl): must be a postgres:// URL",
        'ENGRAM_WEB_PORT (port): must be a number, not "eighty"',
      ]),
    );
    // A setting both servers read is listed once.
    expect(issues.filter((issue) => issue.startsWith("DATABASE_URL"))).toHaveLength(1);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("names the port variable when a port is taken, before the data folder is opened", async () => {
    const gatewayPort = await listening();
    const gateway = await failureOf({ ENGRAM_GATEWAY_PORT: String(gatewayPort) });
    expect(gateway).toMatchObject({
      code: "PORT_IN_USE",
      details: { variable: "ENGRAM_GATEWAY_PORT", port: gatewayPort },
    });
    expect(gateway.message).toContain(`Port ${gatewayPort}`);
    expect(gateway.message).toContain("ENGRAM_GATEWAY_PORT");
    const webPort = await listening();
    const web = await failureOf({ ENGRAM_WEB_PORT: String(webPort) });
    expect(web).toMatchObject({ code: "PORT_IN_USE", details: { variable: "ENGRAM_WEB_PORT" } });
    expect(existsSync(dataDir)).toBe(false);
  });

  it("names DATABASE_URL when its server refuses the connection", async () => {
    const port = await listening();
    servers[0]?.close();
    const failure = await failureOf({ DATABASE_URL: `postgres://engram@127.0.0.1:${port}/engram` });
    expect(failure).toMatchObject({ code: "DATABASE_UNAVAILABLE", details: { variable: "DATABASE_URL" } });
    expect(failure.message).toContain(`127.0.0.1:${port}`);
  });
});
