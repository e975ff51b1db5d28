import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container as rootContainer } from "tsyringe";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type EngramError, isEngramError } from "../errors/engram-error.js";
import { MemoryManager } from "../memory/memory-manager.js";
import { ScriptedProvider } from "../memory/test-support/scripted-provider.js";
import { ENGRAM_CORE_VERSION } from "./core-version.js";
import { definePlugin, isEngramPlugin, type PluginDefinition } from "./engram-plugin.js";
import { installPlugin } from "./install-plugin.js";
import type { MemoryProviderFactory } from "./memory-provider-factory.js";
import { assertPluginCompatible } from "./plugin-compatibility.js";
import { CLOCK, HOST_DATABASE, LOGGER, MEMORY_PROVIDER_FACTORIES, SHUTDOWN_HOOKS } from "./tokens.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isEngramError(error) ? error.code : `not an EngramError: ${String(error)}`;
  }
  return undefined;
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<EngramError | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isEngramError(error)) return error;
    throw error;
  }
  return undefined;
}

const base: PluginDefinition<{ path: string }> = {
  name: "@engram/provider-test",
  version: "1.2.3",
  engram: `^${ENGRAM_CORE_VERSION}`,
  configSchema: {
    parse(input) {
      const path = (input as { path?: unknown } | undefined)?.path;
      if (typeof path !== "string") throw new TypeError("path must be a string");
      return { path };
    },
  },
  register(container, config) {
    const factory: MemoryProviderFactory = (ctx) =>
      new ScriptedProvider(`test:${config.path}:${ctx.sessionId}`);
    container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, { useValue: factory });
  },
};

describe("ENGRAM_CORE_VERSION", () => {
  it("equals the version in package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(ENGRAM_CORE_VERSION).toBe(pkg.version);
  });
});

describe("DI tokens", () => {
  it("are distinct global symbols", () => {
    const tokens = [MEMORY_PROVIDER_FACTORIES, CLOCK, LOGGER, HOST_DATABASE, SHUTDOWN_HOOKS];
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(typeof token).toBe("symbol");
      expect(Symbol.for(Symbol.keyFor(token) ?? "")).toBe(token);
    }
  });
});

describe("definePlugin", () => {
  it("returns a frozen, branded plugin that keeps the definition", () => {
    const plugin = definePlugin(base);
    expect(isEngramPlugin(plugin)).toBe(true);
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(plugin).toMatchObject({
      kind: "engram-plugin",
      name: base.name,
      version: "1.2.3",
      engram: `^${ENGRAM_CORE_VERSION}`,
    });
    expect(isEngramPlugin(base)).toBe(false);
    expect(isEngramPlugin({ kind: "engram-plugin" })).toBe(false);
    expect(isEngramPlugin(null)).toBe(false);
  });

  it.each([
    ["an empty name", { name: " " }],
    ["a non-semver version", { version: "1.2" }],
    ["an invalid core range", { engram: "not a range!" }],
    ["an empty core range", { engram: "" }],
    ["a missing register function", { register: undefined }],
  ])("rejects %s with INVALID_ARGUMENT", (_label, override) => {
    expect(codeOf(() => definePlugin({ ...base, ...override } as PluginDefinition<{ path: string }>))).toBe(
      "INVALID_ARGUMENT",
    );
  });
});

describe("definePlugin typing", () => {
  it("infers the config type of register from configSchema", () => {
    const plugin = definePlugin({
      ...base,
      configSchema: { parse: (input: unknown) => ({ limit: Number(input) }) },
      register(_container, config) {
        expectTypeOf(config).toEqualTypeOf<{ limit: number }>();
      },
    });
    expectTypeOf(plugin.configSchema).toEqualTypeOf<
      { parse(input: unknown): { limit: number } } | undefined
    >();
    expect(plugin.configSchema?.parse("3")).toEqual({ limit: 3 });
  });
});

describe("assertPluginCompatible", () => {
  it("accepts a plugin whose range includes the core version", () => {
    // A fixed core version: these ranges are about semver, not about this build's version.
    for (const engram of ["^0.1.0", ">=0.1.0 <0.2.0", "0.1.x", "*"]) {
      expect(
        codeOf(() => assertPluginCompatible(definePlugin({ ...base, engram }), "0.1.0")),
      ).toBeUndefined();
    }
    expect(
      codeOf(() => assertPluginCompatible(definePlugin({ ...base, engram: "^1.0.0" }), "1.4.2")),
    ).toBeUndefined();
    expect(
      codeOf(() => assertPluginCompatible(definePlugin({ ...base, engram: "^1.0.0" }), "1.5.0-beta.1")),
    ).toBeUndefined();
  });

  it("throws PLUGIN_INCOMPATIBLE naming the plugin, range and core version otherwise", () => {
    for (const engram of ["^0.2.0", "^1.0.0", "<0.1.0", "0.0.x"]) {
      expect(codeOf(() => assertPluginCompatible(definePlugin({ ...base, engram }), "0.1.0"))).toBe(
        "PLUGIN_INCOMPATIBLE",
      );
    }
    try {
      assertPluginCompatible(definePlugin({ ...base, engram: "^1.0.0" }), "2.0.0");
      expect.unreachable();
    } catch (error) {
      expect(isEngramError(error) && error.details).toEqual({
        plugin: base.name,
        range: "^1.0.0",
        coreVersion: "2.0.0",
      });
    }
  });
});

describe("installPlugin", () => {
  it("registers a provider factory the host can resolve and feed to a MemoryManager", async () => {
    const container = rootContainer.createChildContainer();
    await installPlugin(container, definePlugin(base), { config: { path: "/tmp/facts" } });
    const factories = container.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
    expect(factories).toHaveLength(1);
    const manager = new MemoryManager();
    const provider = factories[0]?.({ sessionId: "s1", platform: "cli", agentContext: "primary", extra: {} });
    expect(provider && manager.addProvider(provider).added).toBe(true);
    expect(manager.providers.map((p) => p.name)).toEqual(["test:/tmp/facts:s1"]);
  });

  it("registers nothing when the plugin is incompatible or its config is invalid", async () => {
    const container = rootContainer.createChildContainer();
    const incompatible = await asyncCodeOf(
      installPlugin(container, definePlugin({ ...base, engram: "^9.0.0" }), { config: { path: "x" } }),
    );
    expect(incompatible?.code).toBe("PLUGIN_INCOMPATIBLE");
    const invalid = await asyncCodeOf(installPlugin(container, definePlugin(base), { config: { path: 42 } }));
    expect(invalid?.code).toBe("INVALID_CONFIG");
    expect(invalid?.cause).toBeInstanceOf(TypeError);
    expect(container.isRegistered(MEMORY_PROVIDER_FACTORIES)).toBe(false);
  });

  it("passes raw config through when the plugin has no schema", async () => {
    const seen: unknown[] = [];
    const plugin = definePlugin({
      ...base,
      configSchema: undefined,
      register: (_c, config) => void seen.push(config),
    });
    await installPlugin(rootContainer.createChildContainer(), plugin, { config: { anything: true } });
    expect(seen).toEqual([{ anything: true }]);
  });
});
