/**
 * Agent turn overhead: the offline model (no network) and three no-op providers, so the figures
 * measure the runtime itself (hooks, prefetch fence, streaming sanitizer, events, background sync).
 */
import { benchLatency, benchThroughput } from "@engram/bench";
import {
  type ChatMessage,
  MemoryManager,
  MemoryProvider,
  type ProviderInitContext,
  type ToolSchema,
} from "@engram/core";
import { Agent } from "../src/index.js";

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
}

const manager = new MemoryManager();
for (const name of ["alpha", "beta", "gamma"]) manager.addProvider(new NoopProvider(name));
const agent = new Agent({ sessionId: "bench-session", memory: manager });
const history: ChatMessage[] = Array.from({ length: 10 }, (_, i) => [
  { role: "user" as const, content: `question ${i}` },
  { role: "assistant" as const, content: `answer ${i}` },
]).flat();
const extra = { providers: 3, model: "offline", historyMessages: history.length };
let deltas = 0;
const onEvent = (): void => {
  deltas++;
};

const TURNS = 500;
await benchThroughput({
  name: "agent.runTurn",
  opsPerRun: TURNS,
  run: async () => {
    for (let i = 0; i < TURNS; i++) await agent.runTurn("what do I like to drink?", history, { onEvent });
    await manager.flushPending();
  },
  extra,
});

await benchLatency({
  name: "agent.runTurn.latency",
  samples: 2_000,
  warmup: 200,
  sample: () => agent.runTurn("what do I like to drink?", history, { onEvent }),
  extra,
});

await manager.shutdownAll({ deadlineMs: 1_000 });
if (deltas === 0) throw new Error("no events were emitted");
