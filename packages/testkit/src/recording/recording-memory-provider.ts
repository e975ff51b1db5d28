import {
  type ChatMessage,
  type CompletedTurn,
  type JsonObject,
  type JsonValue,
  type MemoryHookContext,
  MemoryProvider,
  type MemoryProviderCapabilities,
  type ProviderInitContext,
  type SessionSwitchOptions,
  type ToolSchema,
  type TurnStartContext,
} from "@engram/core";

/** One hook call as the recording provider saw it; arguments are deep copies taken at call time. */
export interface RecordedCall {
  hook: string;
  args: JsonValue[];
}

export interface RecordingMemoryProviderProps {
  name?: string;
  /** What `prefetch` returns: a fixed text or a function of the query. Default "". */
  recall?: string | ((query: string, ctx: MemoryHookContext) => string);
  /** Tools offered to the model. Default none. */
  tools?: ToolSchema[];
  /** Answers tool calls; default echoes `{ tool, args }`. Throw to simulate a provider failure. */
  onToolCall?: (name: string, args: JsonObject) => JsonValue | Promise<JsonValue>;
  /** Text returned from `onPreCompress`. Default "". */
  preCompressNote?: string;
  /** Shared log, so the order of calls across several providers (and the host) can be asserted. */
  log?: RecordedCall[];
}

function copy(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

/**
 * A real in-process provider that records every hook call in order, for tests of hosts (agent,
 * gateway) that must call hooks in the right order with the right data. It never touches the network.
 */
export class RecordingMemoryProvider extends MemoryProvider {
  readonly name: string;
  override readonly capabilities: Readonly<MemoryProviderCapabilities>;
  /** Every call, oldest first (the shared `log` when one was given). */
  readonly calls: RecordedCall[];
  readonly #props: RecordingMemoryProviderProps;

  constructor(props: RecordingMemoryProviderProps = {}) {
    super();
    this.name = props.name ?? "recording";
    this.#props = props;
    this.calls = props.log ?? [];
    this.capabilities = Object.freeze({
      tools: (props.tools ?? []).length > 0,
      prefetch: true,
      syncTurn: true,
      sessionEnd: true,
      sessionSwitch: true,
      compression: true,
      network: false,
    });
  }

  /** Hook names in call order, each prefixed with this provider's name when a log is shared. */
  hooks(): string[] {
    return this.calls.filter((c) => c.args[0] === this.name).map((c) => c.hook);
  }

  /** Calls of one hook (arguments without the leading provider name). */
  callsOf(hook: string): JsonValue[][] {
    return this.calls.filter((c) => c.hook === hook && c.args[0] === this.name).map((c) => c.args.slice(1));
  }

  #record(hook: string, ...args: unknown[]): void {
    this.calls.push({ hook, args: [this.name, ...args.map(copy)] });
  }

  isAvailable(): boolean {
    return true;
  }
  initialize(ctx: ProviderInitContext): void {
    this.#record("initialize", ctx);
  }
  getToolSchemas(): ToolSchema[] {
    return this.#props.tools ?? [];
  }
  override systemPromptBlock(): string {
    this.#record("systemPromptBlock");
    return "";
  }
  override prefetch(query: string, ctx: MemoryHookContext): string {
    this.#record("prefetch", query, ctx);
    const recall = this.#props.recall ?? "";
    return typeof recall === "function" ? recall(query, ctx) : recall;
  }
  override queuePrefetch(query: string, ctx: MemoryHookContext): void {
    this.#record("queuePrefetch", query, ctx);
  }
  override syncTurn(turn: CompletedTurn, ctx: MemoryHookContext): void {
    this.#record("syncTurn", turn, ctx);
  }
  override onTurnStart(ctx: TurnStartContext): void {
    this.#record("onTurnStart", ctx);
  }
  override onSessionEnd(messages: readonly ChatMessage[]): void {
    this.#record("onSessionEnd", messages);
  }
  override onSessionSwitch(newSessionId: string, options: SessionSwitchOptions): void {
    this.#record("onSessionSwitch", newSessionId, options);
  }
  override onPreCompress(messages: readonly ChatMessage[]): string {
    this.#record("onPreCompress", messages);
    return this.#props.preCompressNote ?? "";
  }
  override async handleToolCall(name: string, args: JsonObject): Promise<JsonValue> {
    this.#record("handleToolCall", name, args);
    if (this.#props.onToolCall) return await this.#props.onToolCall(name, args);
    return { tool: name, args };
  }
  override shutdown(): void {
    this.#record("shutdown");
  }
}
