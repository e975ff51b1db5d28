/**
 * Providers that each break one rule of the contract, built on the reference provider so that
 * everything else about them is correct. The kit's own tests check that exactly the right checks
 * fail for each.
 */
import net from "node:net";
import type {
  ChatMessage,
  CompletedTurn,
  JsonObject,
  JsonValue,
  MemoryHookContext,
  MemoryProviderCapabilities,
  ProviderInitContext,
  SessionSwitchOptions,
  ToolSchema,
} from "@engram/core";
import { MemoryProvider, NO_CAPABILITIES } from "@engram/core";
import { InMemoryMemoryProvider } from "../../reference/in-memory-memory-provider.js";

/** isAvailable pings a server (fire and forget, error swallowed): still a network call. */
export class FetchingAvailabilityProvider extends InMemoryMemoryProvider {
  override isAvailable(): boolean {
    void fetch("http://127.0.0.1:9/health").catch(() => {});
    return true;
  }
}

/** isAvailable opens a raw socket to probe a port. */
export class SocketAvailabilityProvider extends InMemoryMemoryProvider {
  override isAvailable(): boolean {
    try {
      net
        .connect({ host: "127.0.0.1", port: 9 })
        .on("error", () => {})
        .destroy();
    } catch {
      // A blocked or refused connection still means "available" to this careless provider.
    }
    return true;
  }
}

/** isAvailable checks the network asynchronously and returns a Promise. */
export class AsyncAvailabilityProvider extends InMemoryMemoryProvider {
  override isAvailable(): boolean {
    return Promise.resolve(true) as unknown as boolean;
  }
}

/** Declares one tool twice. */
export class DuplicateToolProvider extends InMemoryMemoryProvider {
  override getToolSchemas(): ToolSchema[] {
    const schemas = super.getToolSchemas();
    return [...schemas, structuredClone(schemas[0] as ToolSchema)];
  }
}

/** memory_search requires a parameter its schema never declares. */
export class UndeclaredRequiredProvider extends InMemoryMemoryProvider {
  override getToolSchemas(): ToolSchema[] {
    return super
      .getToolSchemas()
      .map((schema) =>
        schema.name === "memory_search"
          ? { ...schema, parameters: { ...schema.parameters, required: ["query", "namespace"] } }
          : schema,
      );
  }
}

/** memory_add's parameters are not an object schema at all. */
export class ArrayParametersProvider extends InMemoryMemoryProvider {
  override getToolSchemas(): ToolSchema[] {
    return super
      .getToolSchemas()
      .map((schema) =>
        schema.name === "memory_add"
          ? ({ ...schema, parameters: { type: "array" } } as unknown as ToolSchema)
          : schema,
      );
  }
}

/**
 * The seed-003 bug: caches the session id at initialize, ignores switches and its hooks' session ids,
 * so it keeps writing the new session's data into the old session's record.
 */
export class StaleSessionIdProvider extends InMemoryMemoryProvider {
  #cached = "";
  override initialize(ctx: ProviderInitContext): void {
    super.initialize(ctx);
    this.#cached = ctx.sessionId;
  }
  override syncTurn(turn: CompletedTurn, _ctx: MemoryHookContext): void {
    super.syncTurn({ ...turn, sessionId: this.#cached }, { sessionId: this.#cached });
  }
  override onSessionSwitch(_newSessionId: string, _options: SessionSwitchOptions): void {}
}

/**
 * Keeps its own turn buffer and, on a switch, files it under the current (new) id: a reset carries
 * the old session's turns into the new one.
 */
export class LeakyBufferProvider extends InMemoryMemoryProvider {
  #pending: string[] = [];
  #current: string | undefined;
  override initialize(ctx: ProviderInitContext): void {
    super.initialize(ctx);
    this.#current = ctx.sessionId;
  }
  override syncTurn(turn: CompletedTurn, _ctx: MemoryHookContext): void {
    this.#pending.push(`${turn.user}\n${turn.assistant}`);
  }
  override onSessionSwitch(newSessionId: string, options: SessionSwitchOptions): void {
    super.onSessionSwitch(newSessionId, options);
    this.#current = newSessionId;
  }
  override shutdown(): void {
    for (const text of this.#pending)
      this.store.add({ sessionId: this.#current, kind: "turn", text, createdAt: 0 });
    this.#pending = [];
    super.shutdown();
  }
}

/** Stores an extra copy of the transcript at every session end. */
export class RepeatingSessionEndProvider extends InMemoryMemoryProvider {
  #ends = 0;
  override onSessionEnd(messages: readonly ChatMessage[]): void {
    super.onSessionEnd(messages);
    this.#ends += 1;
    this.store.add({ sessionId: this.sessionId, kind: "fact", text: `summary #${this.#ends}`, createdAt: 0 });
  }
}

/** shutdown never settles. */
export class HangingShutdownProvider extends InMemoryMemoryProvider {
  override shutdown(): Promise<void> {
    return new Promise(() => {});
  }
}

/** shutdown works once and throws on the second call. */
export class OneShotShutdownProvider extends InMemoryMemoryProvider {
  #done = false;
  override shutdown(): void {
    if (this.#done) throw new Error("already shut down");
    this.#done = true;
    super.shutdown();
  }
}

/** syncTurn waits far longer than the syncTurn bound (a remote write on the caller's path). */
export class SlowSyncTurnProvider extends InMemoryMemoryProvider {
  constructor(private readonly delayMs: number) {
    super();
  }
  override async syncTurn(turn: CompletedTurn, ctx: MemoryHookContext): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    super.syncTurn(turn, ctx);
  }
}

/** Answers every call it cannot run with a bare string instead of a coded error. */
export class GarbageToolProvider extends InMemoryMemoryProvider {
  override handleToolCall(name: string, args: JsonObject): JsonValue {
    try {
      return super.handleToolCall(name, args);
    } catch {
      return "something went wrong";
    }
  }
}

/** Never validates its arguments: bad input crashes it with a TypeError. */
export class UncheckedArgumentsProvider extends InMemoryMemoryProvider {
  override handleToolCall(name: string, args: JsonObject): JsonValue {
    if (name === "memory_search") {
      const query = (args.query as unknown as string).toLowerCase();
      return { results: this.store.search(query).map((e) => e.text) };
    }
    if (name === "memory_add") {
      const content = (args.content as unknown as string).trim();
      return { saved: content.length };
    }
    return super.handleToolCall(name, args);
  }
}

/** Mutates the transcript it is handed at session end. */
export class MutatingSessionEndProvider extends InMemoryMemoryProvider {
  override onSessionEnd(messages: readonly ChatMessage[]): void {
    (messages as ChatMessage[]).push({ role: "system", content: "ended" });
    super.onSessionEnd(messages);
  }
}

/** Declares capabilities it does not have. */
export class OverclaimingProvider extends InMemoryMemoryProvider {
  override readonly capabilities: Readonly<MemoryProviderCapabilities> = Object.freeze({
    ...new InMemoryMemoryProvider().capabilities,
    network: true,
  });
}

/**
 * Declares prefetch, syncTurn and sessionEnd and keeps nothing: every hook is the base class's no-op.
 * Only the recall checks can tell it from a working provider (issue #16).
 */
export class DoNothingMemoryProvider extends MemoryProvider {
  readonly name = "do-nothing";
  override readonly capabilities: Readonly<MemoryProviderCapabilities> = Object.freeze({
    ...NO_CAPABILITIES,
    prefetch: true,
    syncTurn: true,
    sessionEnd: true,
  });
  isAvailable(): boolean {
    return true;
  }
  initialize(): void {}
  getToolSchemas(): ToolSchema[] {
    return [];
  }
}
