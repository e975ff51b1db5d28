import { describe, expect, it } from "vitest";
import { webConfigFromEnv } from "./web-config.js";

const failureOf = (env: NodeJS.ProcessEnv, app?: string) => {
  try {
    webConfigFromEnv(env, app ? { app } : {});
  } catch (error) {
    expect(error).toMatchObject({ code: "INVALID_CONFIG" });
    return error as Error & { details: { issues: string[]; problems: Array<Record<string, unknown>> } };
  }
  return expect.unreachable();
};

describe("web configuration", () => {
  it("reads the environment and fills defaults", () => {
    expect(webConfigFromEnv({ ENGRAM_WEB_PORT: "9001", ENGRAM_WEB_MAX_AGENTS: "3" })).toMatchObject({
      host: "127.0.0.1",
      port: 9001,
      maxAgents: 3,
    });
  });

  it("reads the idle window of the memory sweep and the instance name, with defaults", () => {
    expect(webConfigFromEnv({})).toMatchObject({ idleCommitMs: 30 * 60 * 1000, instance: "web" });
    expect(
      webConfigFromEnv({ ENGRAM_WEB_IDLE_COMMIT_MS: "1500", ENGRAM_WEB_INSTANCE: "web-2" }),
    ).toMatchObject({ idleCommitMs: 1500, instance: "web-2" });
    expect(failureOf({ ENGRAM_WEB_IDLE_COMMIT_MS: "10" }).details.problems).toMatchObject([
      { variable: "ENGRAM_WEB_IDLE_COMMIT_MS", key: "idleCommitMs" },
    ]);
    expect(failureOf({ ENGRAM_WEB_INSTANCE: "../x" }).details.problems).toMatchObject([
      { variable: "ENGRAM_WEB_INSTANCE", key: "instance" },
    ]);
  });

  it("lists every problem at once, each naming its environment variable and its key", () => {
    const failure = failureOf({
      ENGRAM_WEB_PORT: "eighty",
      ENGRAM_WEB_HOST: "0.0.0.0",
      ENGRAM_WEB_TOKEN: "short",
      DATABASE_URL: "mysql://x",
    });
    expect(failure.details.problems).toEqual([
      { variable: "ENGRAM_WEB_PORT", key: "port", message: 'must be a number, not "eighty"' },
      { variable: "ENGRAM_WEB_TOKEN", key: "token", message: "must be at least 16 characters" },
      { variable: "DATABASE_URL", key: "databaseUrl", message: "must be a postgres:// URL" },
    ]);
    expect(failure.details.issues[1]).toBe("ENGRAM_WEB_TOKEN (token): must be at least 16 characters");
    expect(failure.message).toMatch(/^Invalid configuration of the Engram web server \(3 problems\):/);
  });

  it("requires a token off loopback, naming ENGRAM_WEB_TOKEN", () => {
    expect(failureOf({ ENGRAM_WEB_HOST: "0.0.0.0" }).details.issues).toEqual([
      "ENGRAM_WEB_TOKEN (token): is required when the host is not loopback",
    ]);
  });

  it("names the program that was run", () => {
    expect(failureOf({ ENGRAM_WEB_PORT: "x" }, "Engram (pnpm start)").message).toMatch(
      /^Invalid configuration of Engram \(pnpm start\)/,
    );
  });
});
