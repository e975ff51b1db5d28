import "reflect-metadata";
import {
  HOST_DATABASE,
  installPlugin,
  MEMORY_PROVIDER_FACTORIES,
  type MemoryProviderFactory,
  type ProviderInitContext,
  SHUTDOWN_HOOKS,
  type ShutdownHook,
} from "@engram/core";
import { describeEachBackend } from "@engram/store/testing";
import { type Kysely, sql } from "kysely";
import { container as rootContainer } from "tsyringe";
import { expect, it } from "vitest";
import holographicPlugin from "../index.js";

const ctx = (sessionId: string, memoryScope?: string): ProviderInitContext => ({
  sessionId,
  platform: "telegram",
  agentContext: "primary",
  extra: {},
  ...(memoryScope ? { memoryScope } : {}),
});

async function hostWith(db: Kysely<unknown>, config: unknown = {}) {
  const host = rootContainer.createChildContainer();
  host.register<Kysely<unknown>>(HOST_DATABASE, { useValue: db });
  await installPlugin(host, holographicPlugin, { config });
  const providerFor = (context: ProviderInitContext) => {
    // As hosts do: factories are resolved in the session's own child container.
    const [factory] = host
      .createChildContainer()
      .resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES);
    if (!factory) throw new Error("no factory registered");
    return factory(context);
  };
  const shutdown = async () => {
    for (const hook of host.resolveAll<ShutdownHook>(SHUTDOWN_HOOKS).reverse()) await hook();
  };
  return { providerFor, shutdown };
}

async function tell(host: Awaited<ReturnType<typeof hostWith>>, context: ProviderInitContext, fact: string) {
  const provider = host.providerFor(context);
  await provider.initialize(context);
  await provider.handleToolCall("fact_store", { action: "add", content: fact });
  await provider.shutdown();
}

async function recall(
  host: Awaited<ReturnType<typeof hostWith>>,
  context: ProviderInitContext,
  query: string,
) {
  const provider = host.providerFor(context);
  await provider.initialize(context);
  try {
    return await provider.prefetch(query, { sessionId: context.sessionId });
  } finally {
    await provider.shutdown();
  }
}

describeEachBackend("holographicPlugin on the host's database", ({ db }) => {
  it("keeps each memory scope the host names apart, and shares one scope across sessions", async () => {
    const host = await hostWith(db() as Kysely<unknown>, { autoExtract: true });
    await tell(host, ctx("a-1", "telegram:user:1"), "Ada prefers the teal-heron theme");
    expect(await recall(host, ctx("a-2", "telegram:user:1"), "teal-heron theme")).toContain("teal-heron");
    expect(await recall(host, ctx("b-1", "telegram:user:2"), "teal-heron theme")).toBe("");
    await host.shutdown();
  });

  it("writes its tables into the host's database", async () => {
    const host = await hostWith(db() as Kysely<unknown>);
    await tell(host, ctx("c-1", "web"), "The web owner likes amber-lynx icons");
    await host.shutdown();
    const { rows } = await sql<{ content: string }>`select content from holographic_facts`.execute(db());
    expect(rows.map((row) => row.content)).toContain("The web owner likes amber-lynx icons");
  });

  it("shares one configured scope across every host scope when the config names one", async () => {
    const host = await hostWith(db() as Kysely<unknown>, { scope: "household" });
    await tell(host, ctx("d-1", "telegram:user:3"), "The household wifi is called cobalt-otter");
    expect(await recall(host, ctx("d-2", "telegram:user:4"), "cobalt-otter wifi")).toContain("cobalt-otter");
    await host.shutdown();
  });

  it("refuses new sessions once the host ran its shutdown hooks", async () => {
    const host = await hostWith(db() as Kysely<unknown>);
    await host.shutdown();
    expect(() => host.providerFor(ctx("e-1", "web"))).toThrow(
      expect.objectContaining({ code: "STORE_FAILED" }),
    );
  });
});
