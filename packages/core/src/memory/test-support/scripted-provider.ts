import {
  type DelegationContext,
  type MemoryHookContext,
  MemoryProvider,
  type MemoryWriteAction,
  type ProviderInitContext,
  type SessionSwitchOptions,
  type TurnStartContext,
} from "../memory-provider.js";
import type { ChatMessage, CompletedTurn, JsonObject, JsonValue, ToolSchema } from "../types.js";

/** Hooks a test can script; each receives the same arguments as the provider hook. */
export interface ProviderScript {
  available?: () => boolean;
  tools?: () => unknown[];
  initialize?: (ctx: ProviderInitContext) => unknown;
  systemPromptBlock?: () => unknown;
  prefetch?: (query: string, ctx: MemoryHookContext) => unknown;
  queuePrefetch?: (query: string, ctx: MemoryHookContext) => unknown;
  syncTurn?: (turn: CompletedTurn, ctx: MemoryHookContext) => unknown;
  onTurnStart?: (ctx: TurnStartContext) => unknown;
  onSessionEnd?: (messages: readonly ChatMessage[]) => unknown;
  onSessionSwitch?: (id: string, options: SessionSwitchOptions) => unknown;
  onPreCompress?: (messages: readonly ChatMessage[]) => unknown;
  onMemoryWrite?: (...args: unknown[]) => unknown;
  onDelegation?: (...args: unknown[]) => unknown;
  handleToolCall?: (name: string, args: JsonObject) => unknown;
  shutdown?: () => unknown;
}

export interface RecordedCall {
  hook: string;
  args: unknown[];
}

/** A provider whose hooks record their calls and then run a scripted behaviour. */
export class ScriptedProvider extends MemoryProvider {
  readonly calls: RecordedCall[] = [];

  constructor(
    readonly name: string,
    private readonly script: ProviderScript = {},
  ) {
    super();
  }

  /** Calls of one hook, in order. */
  callsOf(hook: string): unknown[][] {
    return this.calls.filter((c) => c.hook === hook).map((c) => c.args);
  }

  // biome-ignore lint/suspicious/noExplicitAny: scripted results are deliberately untyped
  #run(hook: keyof ProviderScript, args: unknown[], fallback: unknown): any {
    this.calls.push({ hook, args });
    const fn = this.script[hook] as ((...a: unknown[]) => unknown) | undefined;
    return fn ? fn(...args) : fallback;
  }

  isAvailable(): boolean {
    return this.script.available ? this.script.available() : true;
  }
  getToolSchemas(): ToolSchema[] {
    return (this.script.tools?.() ?? []) as ToolSchema[];
  }
  initialize(ctx: ProviderInitContext) {
    return this.#run("initialize", [ctx], undefined);
  }
  override systemPromptBlock() {
    return this.#run("systemPromptBlock", [], "");
  }
  override prefetch(query: string, ctx: MemoryHookContext) {
    return this.#run("prefetch", [query, ctx], "");
  }
  override queuePrefetch(query: string, ctx: MemoryHookContext) {
    return this.#run("queuePrefetch", [query, ctx], undefined);
  }
  override syncTurn(turn: CompletedTurn, ctx: MemoryHookContext) {
    return this.#run("syncTurn", [turn, ctx], undefined);
  }
  override onTurnStart(ctx: TurnStartContext) {
    return this.#run("onTurnStart", [ctx], undefined);
  }
  override onSessionEnd(messages: readonly ChatMessage[]) {
    return this.#run("onSessionEnd", [messages], undefined);
  }
  override onSessionSwitch(id: string, options: SessionSwitchOptions) {
    return this.#run("onSessionSwitch", [id, options], undefined);
  }
  override onPreCompress(messages: readonly ChatMessage[]) {
    return this.#run("onPreCompress", [messages], "");
  }
  override onMemoryWrite(
    action: MemoryWriteAction,
    target: string,
    content: string,
    metadata: Readonly<Record<string, unknown>>,
  ) {
    return this.#run("onMemoryWrite", [action, target, content, metadata], undefined);
  }
  override onDelegation(task: string, result: string, ctx: DelegationContext) {
    return this.#run("onDelegation", [task, result, ctx], undefined);
  }
  override handleToolCall(name: string, args: JsonObject): JsonValue | Promise<JsonValue> {
    if (!this.script.handleToolCall) {
      this.calls.push({ hook: "handleToolCall", args: [name, args] });
      return super.handleToolCall(name, args);
    }
    return this.#run("handleToolCall", [name, args], null);
  }
  override shutdown() {
    return this.#run("shutdown", [], undefined);
  }
}

/** A valid tool schema named `name`. */
export function toolSchema(name: string): ToolSchema {
  return { name, description: `the ${name} tool`, parameters: { type: "object", properties: {} } };
}

/** A promise that never settles: a hung provider. */
export function never(): Promise<never> {
  return new Promise<never>(() => {});
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Deterministic PRNG (mulberry32) so randomised interleavings are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
