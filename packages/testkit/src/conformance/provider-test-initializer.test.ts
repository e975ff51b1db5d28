import { describe, expectTypeOf, it } from "vitest";
import { InMemoryMemoryProvider } from "../reference/in-memory-memory-provider.js";
import { checks } from "./conformance-checks.js";
import type { describeMemoryProvider } from "./describe-memory-provider.js";
import type { MemoryProviderTestInitializer, ProviderSnapshot } from "./provider-test-initializer.js";

describe("MemoryProviderTestInitializer typing", () => {
  it("types probe and destroyProvider with the concrete provider createProvider returns", () => {
    const init = {
      name: "typed",
      capabilities: { tools: true },
      createProvider: () => new InMemoryMemoryProvider(),
      probe: (provider: InMemoryMemoryProvider): ProviderSnapshot => ({
        writes: provider.store.entries().map((e) => ({ sessionId: e.sessionId, text: e.text })),
      }),
    } satisfies MemoryProviderTestInitializer<InMemoryMemoryProvider>;
    expectTypeOf(init).toMatchTypeOf<Parameters<typeof describeMemoryProvider<InMemoryMemoryProvider>>[0]>();
    expectTypeOf(checks.sessionEndIsIdempotent<InMemoryMemoryProvider>)
      .parameter(0)
      .toEqualTypeOf<MemoryProviderTestInitializer<InMemoryMemoryProvider>>();
    // A probe for a different provider type does not fit.
    expectTypeOf<{ probe: (p: { other: true }) => ProviderSnapshot }>().not.toMatchTypeOf<
      Pick<MemoryProviderTestInitializer<InMemoryMemoryProvider>, "probe">
    >();
  });
});
