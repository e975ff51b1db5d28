/**
 * MemoryManager fan-out overhead: three no-op providers, so the figures measure the manager itself
 * (timeouts, result records, lanes, JSON normalisation), not any provider.
 */
import { benchThroughput } from "@engram/bench";
import { MemoryManager, MemoryProvider, type ProviderInitContext, type ToolSchema } from "../src/index.js";

class NoopProvider extends MemoryProvider {
  constructor(readonly name: string) {
    super();
  }
  isAvailable(): boolean {
    return true;
  }
  initialize(_ctx: ProviderInitContext): void {}
  getToolSchemas(): ToolSchema[] {
    return [{ name: `${this.name}_search`, description: "search", parameters: { type: "object" } }];
  }
  override prefetch(query: string): string {
    return `recalled for ${query}`;
  }
  override async syncTurn(): Promise<void> {}
  override handleToolCall(name: string): { tool: string; hits: number } {
    return { tool: name, hits: 0 };
  }
}

const manager = new MemoryManager();
for (const name of ["alpha", "beta", "gamma"]) manager.addProvider(new NoopProvider(name));
const ctx = { sessionId: "bench-session" };
const extra = { providers: 3 };

const PREFETCHES = 5_000;
await benchThroughput({
  name: "memory-manager.prefetchAll",
  opsPerRun: PREFETCHES,
  run: async () => {
    for (let i = 0; i < PREFETCHES; i++) await manager.prefetchAll("what does the user like?", ctx);
  },
  extra,
});

const SYNCS = 10_000;
await benchThroughput({
  name: "memory-manager.syncAll+flushPending",
  opsPerRun: SYNCS,
  run: async () => {
    for (let i = 0; i < SYNCS; i++) {
      manager.syncAll({ user: "hello", assistant: "hi", timestamp: i }, ctx);
    }
    await manager.flushPending();
  },
  extra,
});

const TOOL_CALLS = 10_000;
await benchThroughput({
  name: "memory-manager.handleToolCall",
  opsPerRun: TOOL_CALLS,
  run: async () => {
    for (let i = 0; i < TOOL_CALLS; i++) await manager.handleToolCall("beta_search", { q: "tea" });
  },
  extra,
});

await manager.shutdownAll({ deadlineMs: 1_000 });
