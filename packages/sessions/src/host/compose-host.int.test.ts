import "reflect-metadata";
import { ENGRAM_CORE_VERSION, isEngramError, MemoryManager } from "@engram/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngramConfigError, type StartupProblem } from "../config/startup-problem.js";
import { createPluginFixtures, type PluginFixtures } from "../test-support/plugin-fixtures.js";
import { composeHost } from "./compose-host.js";
import { formatHostSummary } from "./format-host-summary.js";

let fixtures: PluginFixtures;
beforeEach(() => {
  fixtures = createPluginFixtures();
});
afterEach(() => fixtures.remove());

async function problemsOf(config: unknown, env: NodeJS.ProcessEnv = {}): Promise<StartupProblem[]> {
  fixtures.writeConfig(config);
  try {
    const host = await composeHost({ cwd: fixtures.dir, env });
    await host.close();
  } catch (error) {
    if (error instanceof EngramConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

const providers = (...entries: object[]) => ({ memory: { providers: entries } });

describe("composeHost with plugins named in engram.config.json", () => {
  it("loads plugins by package name from the config file's folder, a default or a single named export", async () => {
    fixtures.writeConfig(
      providers(
        { plugin: "fixture-notes", config: { path: "n" } },
        { plugin: "fixture-recall", config: { path: "r" } },
      ),
    );
    const host = await composeHost({ cwd: fixtures.dir, env: {} });
    try {
      expect(host.configFile).toBe(`${fixtures.dir}/engram.config.json`);
      expect(host.memory).toEqual([
        {
          path: "memory.providers[0]",
          plugin: "fixture-notes",
          version: "1.0.0",
          providers: [{ name: "notes", available: true, tools: ["fact_store"] }],
        },
        {
          path: "memory.providers[1]",
          plugin: "fixture-recall",
          version: "1.0.0",
          providers: [{ name: "recall", available: true, tools: ["recall_notes"] }],
        },
      ]);
      const session = host.openSession({
        sessionId: "s1",
        platform: "cli",
        agentContext: "primary",
        extra: {},
      });
      const manager = new MemoryManager();
      for (const provider of session.providers) expect(manager.addProvider(provider).added).toBe(true);
      expect(manager.providers.map((p) => p.name)).toEqual(["notes", "recall"]);
      await session.dispose();
    } finally {
      await host.close();
    }
  });

  it("stops with every problem listed together: unknown package, no plugin, incompatible core, bad config, colliding tools", async () => {
    const problems = await problemsOf(
      providers(
        { plugin: "@engram/provider-holographic" },
        { plugin: "fixture-missing" },
        { plugin: "fixture-future", config: { path: "f" } },
        { plugin: "fixture-notes", config: { path: "n" } },
        { plugin: "fixture-recall", config: {} },
        { plugin: "@engram/provider-openviking", config: { baseUrl: "ftp://nowhere" } },
        { plugin: "fixture-nothing" },
        { plugin: "fixture-twins" },
      ),
    );
    const lines = problems.map((p) => [p.code, p.path]);
    expect(lines).toEqual([
      ["PLUGIN_NOT_FOUND", "memory.providers[1].plugin"],
      ["PLUGIN_INVALID", "memory.providers[6].plugin"],
      ["PLUGIN_INVALID", "memory.providers[7].plugin"],
      ["PLUGIN_INCOMPATIBLE", "memory.providers[2]"],
      ["PROVIDER_CONFLICT", "memory.providers[3]"],
      ["INVALID_CONFIG", "memory.providers[4].config.path"],
      ["INVALID_CONFIG", "memory.providers[5].config.baseUrl"],
    ]);
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    expect(byPath.get("memory.providers[1].plugin")).toMatch(
      /^cannot find package "fixture-missing" \(looked in /,
    );
    expect(byPath.get("memory.providers[2]")).toBe(
      `needs @engram/core ^2.0.0, running ${ENGRAM_CORE_VERSION} (fixture-future)`,
    );
    expect(byPath.get("memory.providers[3]")).toContain(
      'tool "fact_store" is also offered by memory.providers[0] (@engram/provider-holographic)',
    );
    expect(byPath.get("memory.providers[4].config.path")).toBe("is required (fixture-recall)");
    expect(byPath.get("memory.providers[7].plugin")).toContain("exports 2 Engram plugins (a, b)");
  });

  it("reports the file's own problems together with the plugins'", async () => {
    const problems = await problemsOf({
      memory: { providers: [{ plugin: "fixture-missing" }] },
      extra: true,
    });
    expect(problems.map((p) => p.code)).toEqual(["INVALID_CONFIG"]);
    // A file that fails its schema names no plugins: only its own problem is listed.
    expect(problems[0]?.path).toContain("engram.config.json");
  });

  it("throws an INVALID_CONFIG error whose message lists one problem per line", async () => {
    fixtures.writeConfig(
      providers({ plugin: "fixture-missing" }, { plugin: "fixture-future", config: { path: "x" } }),
    );
    const error = await composeHost({ cwd: fixtures.dir, env: {} }).catch((caught: unknown) => caught);
    expect(isEngramError(error) && error.code).toBe("INVALID_CONFIG");
    expect((error as Error).message.split("\n")).toEqual([
      "Engram cannot start: 2 configuration problems",
      expect.stringMatching(/^ {2}- memory\.providers\[0\]\.plugin: cannot find package "fixture-missing"/),
      expect.stringMatching(/^ {2}- memory\.providers\[1\]: needs @engram\/core \^2\.0\.0/),
    ]);
  });

  it("finds the first-party plugins from the app's folder when the config file's folder has none", async () => {
    fixtures.writeConfig(
      providers(
        { plugin: "@engram/provider-hindsight", config: { mode: "external", baseUrl: "http://127.0.0.1:9" } },
        { plugin: "@engram/provider-openviking", config: { baseUrl: "http://127.0.0.1:9" } },
      ),
    );
    const host = await composeHost({ cwd: fixtures.dir, env: {} });
    try {
      expect(host.memory.map((m) => [m.plugin, m.providers.map((p) => [p.name, p.available])])).toEqual([
        ["@engram/provider-hindsight", [["hindsight", true]]],
        ["@engram/provider-openviking", [["openviking", true]]],
      ]);
    } finally {
      await host.close();
    }
  });
});

describe("composeHost with adapter plugins named in engram.config.json", () => {
  const adapters = (...entries: object[]) => ({ memory: { providers: [] }, adapters: entries });

  it("builds each configured adapter from its plugin's factory, with the host's services", async () => {
    fixtures.writeConfig(
      adapters(
        { plugin: "fixture-chat", config: { platform: "chat-a" } },
        { plugin: "fixture-chat", config: { platform: "chat-b" } },
      ),
    );
    const host = await composeHost({ cwd: fixtures.dir, env: {}, loadAdapters: true });
    try {
      expect(host.adapters.map((adapter) => adapter.platform)).toEqual(["chat-a", "chat-b"]);
      expect((host.adapters[0] as unknown as { hasClock: boolean }).hasClock).toBe(true);
      expect(host.adapterPlugins).toEqual([
        { path: "adapters[0]", plugin: "fixture-chat", version: "1.0.0", platforms: ["chat-a"] },
        { path: "adapters[1]", plugin: "fixture-chat", version: "1.0.0", platforms: ["chat-b"] },
      ]);
    } finally {
      await host.close();
    }
  });

  it("loads no adapters for a host that does not ask for them", async () => {
    fixtures.writeConfig(adapters({ plugin: "fixture-missing" }));
    const host = await composeHost({ cwd: fixtures.dir, env: {} });
    expect(host.adapters).toEqual([]);
    await host.close();
  });

  it("lists every adapter problem together with the memory ones: unknown package, bad config, a failing factory, two adapters for one platform", async () => {
    fixtures.writeConfig({
      memory: { providers: [{ plugin: "fixture-missing" }] },
      adapters: [
        { plugin: "fixture-chat", config: { platform: "chat" } },
        { plugin: "fixture-absent-adapter" },
        { plugin: "fixture-chat", config: {} },
        { plugin: "fixture-chat", config: { platform: "explode" } },
        { plugin: "fixture-chat", config: { platform: "chat" } },
      ],
    });
    let problems: readonly StartupProblem[] = [];
    try {
      await (await composeHost({ cwd: fixtures.dir, env: {}, loadAdapters: true })).close();
    } catch (error) {
      if (!(error instanceof EngramConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems.map((p) => [p.code, p.path])).toEqual([
      ["PLUGIN_NOT_FOUND", "memory.providers[0].plugin"],
      ["PLUGIN_NOT_FOUND", "adapters[1].plugin"],
      ["INVALID_CONFIG", "adapters[2].config.platform"],
      ["PLUGIN_INVALID", "adapters[3]"],
      ["ADAPTER_CONFLICT", "adapters[4]"],
    ]);
    expect(problems[3]?.message).toContain("no connection settings");
    expect(problems[4]?.message).toBe('platform "chat" is already served by adapters[0] (fixture-chat)');
  });
});

describe("formatHostSummary", () => {
  it("lists the model, each memory provider with its availability and tools, adapters and the file", async () => {
    fixtures.writeConfig(
      providers(
        { plugin: "fixture-notes", config: { path: "n" } },
        { plugin: "@engram/provider-hindsight", config: { mode: "cloud", apiKey: "k" } },
      ),
    );
    const host = await composeHost({ cwd: fixtures.dir, env: {} });
    try {
      const lines = formatHostSummary(host.describe(), { adapters: ["http", "telegram"] });
      expect(lines).toEqual([
        "  model:     offline",
        "  memory:    notes (fixture-notes 1.0.0, memory.providers[0]): available; tools fact_store",
        expect.stringMatching(
          /^ {13}hindsight \(@engram\/provider-hindsight 0\.1\.0, memory\.providers\[1\]\): available; tools hindsight_/,
        ),
        "  adapters:  http, telegram",
        `  config:    ${fixtures.dir}/engram.config.json`,
      ]);
    } finally {
      await host.close();
    }
  });
});
