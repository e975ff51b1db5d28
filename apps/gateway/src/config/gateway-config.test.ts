import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gatewayConfigFromEnv, parseGatewayConfig } from "./gateway-config.js";

const TOKEN = "0123456789abcdef0123";

const configFile = (content: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), "engram-gateway-config-")), "gateway.json");
  writeFileSync(path, content);
  return path;
};

interface ConfigErrorShape extends Error {
  readonly code: string;
  readonly details: { readonly issues: string[]; readonly problems: Array<Record<string, unknown>> };
}

const errorOf = (env: NodeJS.ProcessEnv): ConfigErrorShape => {
  try {
    gatewayConfigFromEnv(env);
  } catch (error) {
    expect(error).toMatchObject({ code: "INVALID_CONFIG" });
    return error as ConfigErrorShape;
  }
  return expect.unreachable();
};
const problemsOf = (env: NodeJS.ProcessEnv) => errorOf(env).details.problems;

describe("gateway configuration", () => {
  it("reads a JSON config file, with the environment winning over it", () => {
    const path = configFile(
      JSON.stringify({
        token: TOKEN,
        port: 9100,
        maxAgents: 32,
        resetPolicy: { mode: "idle", idleMinutes: 5 },
      }),
    );
    const config = gatewayConfigFromEnv({
      ENGRAM_GATEWAY_CONFIG_FILE: path,
      ENGRAM_GATEWAY_MAX_AGENTS: "64",
    });
    expect(config).toMatchObject({ token: TOKEN, port: 9100, maxAgents: 64 });
    expect(config.resetPolicy).toMatchObject({ mode: "idle", idleMinutes: 5 });
  });

  it("refuses a config file that is unreadable, not JSON, or names an unknown setting", () => {
    const codeOf = (env: NodeJS.ProcessEnv) => {
      try {
        gatewayConfigFromEnv(env);
        return "accepted";
      } catch (error) {
        return (error as { code?: string; details?: { issues?: string[] } }).code;
      }
    };
    expect(codeOf({ ENGRAM_GATEWAY_CONFIG_FILE: "/nonexistent/gateway.json" })).toBe("INVALID_CONFIG");
    expect(codeOf({ ENGRAM_GATEWAY_CONFIG_FILE: configFile("{ not json") })).toBe("INVALID_CONFIG");
    expect(codeOf({ ENGRAM_GATEWAY_CONFIG_FILE: configFile("[1, 2]") })).toBe("INVALID_CONFIG");
    const typo = configFile(JSON.stringify({ token: TOKEN, maxAgent: 5 }));
    expect(() => gatewayConfigFromEnv({ ENGRAM_GATEWAY_CONFIG_FILE: typo })).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        details: expect.objectContaining({
          problems: [{ key: "maxAgent", file: typo, message: expect.stringContaining('"maxAgents"') }],
        }),
      }),
    );
  });

  it("lists unknown keys of the config file together with invalid values, from the file and the environment", () => {
    const path = configFile(JSON.stringify({ maxAgent: 5, port: 70_000, redactPii: "yes" }));
    const problems = problemsOf({
      ENGRAM_GATEWAY_CONFIG_FILE: path,
      ENGRAM_GATEWAY_TOKEN: "short",
      ENGRAM_GATEWAY_MAX_TEXT_BYTES: "lots",
    });
    expect(problems).toEqual([
      { key: "maxAgent", file: path, message: expect.any(String) },
      { variable: "ENGRAM_GATEWAY_MAX_TEXT_BYTES", key: "maxTextBytes", message: expect.any(String) },
      { variable: "ENGRAM_GATEWAY_PORT", key: "port", file: path, message: expect.any(String) },
      { variable: "ENGRAM_GATEWAY_TOKEN", key: "token", message: "must be at least 16 characters" },
      { variable: "ENGRAM_GATEWAY_REDACT_PII", key: "redactPii", file: path, message: expect.any(String) },
    ]);
  });

  it("names the environment variable and the config key of each problem, and the program that was run", () => {
    const error = errorOf({ ENGRAM_GATEWAY_TOKEN: "short" });
    expect(error.details.issues).toEqual(["ENGRAM_GATEWAY_TOKEN (token): must be at least 16 characters"]);
    expect(error.message).toMatch(/^Invalid configuration of the Engram gateway \(1 problem\):\n {2}- /);
    const asLauncher = (() => {
      try {
        gatewayConfigFromEnv({ ENGRAM_GATEWAY_TOKEN: "short" }, { app: "Engram (pnpm start)" });
      } catch (caught) {
        return caught as Error;
      }
      return expect.unreachable();
    })();
    expect(asLauncher.message).toMatch(/^Invalid configuration of Engram \(pnpm start\)/);
    expect(asLauncher.message).not.toContain("gateway");
  });

  it("fills defaults and reads the environment", () => {
    const config = gatewayConfigFromEnv({
      ENGRAM_GATEWAY_PORT: "9000",
      ENGRAM_GATEWAY_TOKEN: TOKEN,
      DATABASE_URL: "postgres://u@h:5432/db",
      ENGRAM_GATEWAY_RESET_POLICY: '{"mode":"idle","idle_minutes":30}',
    });
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 9000,
      token: TOKEN,
      databaseUrl: "postgres://u@h:5432/db",
      resetPolicy: { mode: "idle", idleMinutes: 30, atHour: 4 },
    });
  });

  it("requires a token unless dev mode binds loopback", () => {
    expect(() => parseGatewayConfig({})).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    expect(parseGatewayConfig({ devMode: true }).token).toBeUndefined();
    expect(() => parseGatewayConfig({ devMode: true, host: "0.0.0.0" })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
  });

  it("reports every invalid field at once", () => {
    try {
      gatewayConfigFromEnv({
        ENGRAM_GATEWAY_PORT: "70000",
        ENGRAM_GATEWAY_TOKEN: "short",
        DATABASE_URL: "mysql://x",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "INVALID_CONFIG" });
      const { problems } = (error as { details: { problems: Array<{ key: string }> } }).details;
      expect(problems.map((problem) => problem.key)).toEqual(["port", "token", "databaseUrl"]);
    }
  });

  it("rejects an invalid reset policy and non-JSON policy text", () => {
    expect(() => parseGatewayConfig({ token: TOKEN, resetPolicy: { mode: "weekly" } })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    expect(() =>
      gatewayConfigFromEnv({ ENGRAM_GATEWAY_TOKEN: TOKEN, ENGRAM_GATEWAY_RESET_POLICY: "{" }),
    ).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
  });

  it("reads the session isolation flags and the agent cap, and rejects invalid values", () => {
    expect(gatewayConfigFromEnv({ ENGRAM_GATEWAY_DEV: "1" })).toMatchObject({
      groupSessionsPerUser: true,
      threadSessionsPerUser: false,
    });
    expect(
      gatewayConfigFromEnv({
        ENGRAM_GATEWAY_DEV: "1",
        ENGRAM_GATEWAY_GROUP_SESSIONS_PER_USER: "false",
        ENGRAM_GATEWAY_THREAD_SESSIONS_PER_USER: "1",
      }),
    ).toMatchObject({ groupSessionsPerUser: false, threadSessionsPerUser: true });
    expect(
      gatewayConfigFromEnv({ ENGRAM_GATEWAY_DEV: "1", ENGRAM_GATEWAY_MAX_AGENTS: "2000" }).maxAgents,
    ).toBe(2000);
    expect(() => gatewayConfigFromEnv({ ENGRAM_GATEWAY_DEV: "1", ENGRAM_GATEWAY_MAX_AGENTS: "0" })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    expect(() =>
      gatewayConfigFromEnv({ ENGRAM_GATEWAY_DEV: "1", ENGRAM_GATEWAY_THREAD_SESSIONS_PER_USER: "yes" }),
    ).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
  });
});
