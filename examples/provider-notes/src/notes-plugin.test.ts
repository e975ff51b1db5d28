// tsyringe needs the Reflect metadata API before it loads; a host's composition root imports it too.
import "reflect-metadata";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  assertPluginCompatible,
  type EngramError,
  installPlugin,
  isEngramError,
  isEngramPlugin,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProviderFactory,
} from "@engram/core";
import { container as rootContainer } from "tsyringe";
import { describe, expect, it } from "vitest";
import plugin from "./index.js";
import { NotesProvider } from "./notes-provider.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  name: string;
  version: string;
};

async function installError(config: unknown): Promise<EngramError | undefined> {
  const container = rootContainer.createChildContainer();
  const error = await installPlugin(container, plugin, { config }).catch((e: unknown) => e);
  expect(container.isRegistered(MEMORY_PROVIDER_FACTORIES)).toBe(false);
  return isEngramError(error) ? error : undefined;
}

describe("the notes plugin", () => {
  it("is the default export, named and versioned like the package, and accepts this core", () => {
    expect(isEngramPlugin(plugin)).toBe(true);
    expect({ name: plugin.name, version: plugin.version }).toEqual({ name: pkg.name, version: pkg.version });
    expect(() => assertPluginCompatible(plugin)).not.toThrow();
  });

  it("registers a factory that builds a fresh NotesProvider per session on the configured folder", async () => {
    const container = rootContainer.createChildContainer();
    await installPlugin(container, plugin, { config: { dir: "relative/notes", recallLimit: 3 } });
    const factories = container.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
    expect(factories).toHaveLength(1);
    const ctx = { sessionId: "s1", platform: "cli", agentContext: "primary" as const, extra: {} };
    const first = factories[0]?.(ctx);
    expect(first).toBeInstanceOf(NotesProvider);
    expect(factories[0]?.({ ...ctx, sessionId: "s2" })).not.toBe(first);
    // Nothing was created on disk: register and the factory do no I/O.
    expect(existsSync(resolve("relative/notes"))).toBe(false);
  });

  it.each([
    ["no config", undefined],
    ["no dir", {}],
    ["an empty dir", { dir: " " }],
    ["a recallLimit of 0", { dir: "/tmp/notes", recallLimit: 0 }],
    ["an unknown key", { dir: "/tmp/notes", folder: "/tmp" }],
  ])("refuses %s with INVALID_CONFIG and registers nothing", async (_label, config) => {
    const error = await installError(config);
    expect(error?.code).toBe("INVALID_CONFIG");
    expect(error?.details).toEqual({ plugin: "engram-provider-notes" });
  });

  it("is refused by a core outside its engram range", async () => {
    const container = rootContainer.createChildContainer();
    const error = await installPlugin(container, plugin, {
      config: { dir: "/tmp/n" },
      coreVersion: "1.0.0",
    }).catch((e: unknown) => e);
    expect(isEngramError(error) && error.code).toBe("PLUGIN_INCOMPATIBLE");
  });
});
