import "reflect-metadata";
import {
  installPlugin,
  MEMORY_PROVIDER_FACTORIES,
  MemoryManager,
  type MemoryProviderFactory,
  type ProviderInitContext,
} from "@engram/core";
import { type OpenVikingServerHandle, startOpenVikingServer } from "@engram/testkit/openviking-server";
import { container } from "tsyringe";
import { afterEach, describe, expect, it } from "vitest";
import openVikingPlugin from "../index.js";

const ctx = (sessionId: string): ProviderInitContext => ({
  sessionId,
  platform: "cli",
  agentContext: "primary",
  extra: {},
});

describe("openVikingPlugin", () => {
  let server: OpenVikingServerHandle | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("registers a provider factory that works behind a MemoryManager", async () => {
    server = await startOpenVikingServer({ apiKey: "k" });
    const child = container.createChildContainer();
    await installPlugin(child, openVikingPlugin, {
      config: { baseUrl: server.url, apiKey: "k", timeoutMs: 5_000 },
    });
    const [factory] = child.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
    if (!factory) throw new Error("no factory registered");
    const first = new MemoryManager();
    first.addProvider(factory(ctx("p-1")));
    await first.initializeAll(ctx("p-1"));
    first.syncAll({ user: "I prefer aisle seats.", assistant: "Noted.", timestamp: 1 }, { sessionId: "p-1" });
    const ended = await first.onSessionEnd([]);
    expect(ended).toEqual([expect.objectContaining({ ok: true })]);
    await first.shutdownAll();
    await server.idle();

    const second = factory(ctx("p-2"));
    await second.initialize(ctx("p-2"));
    expect(await second.prefetch("which seats do I prefer", { sessionId: "p-2" })).toContain(
      "I prefer aisle seats.",
    );
    await second.shutdown();
    child.dispose();
  });

  it("refuses an invalid configuration with INVALID_CONFIG", async () => {
    await expect(
      installPlugin(container.createChildContainer(), openVikingPlugin, { config: { baseUrl: "nope" } }),
    ).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
  });
});
