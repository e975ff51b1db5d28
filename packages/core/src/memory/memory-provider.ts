import { ToolNotHandledError } from "./memory-errors.js";
import type { ChatMessage, CompletedTurn, JsonObject, JsonValue, ToolSchema } from "./types.js";

/**
 * Version of the provider contract this core speaks. Bumped only on a breaking change to
 * {@link MemoryProvider}; adding an optional hook with a no-op default is not breaking.
 */
export const MEMORY_PROVIDER_API_VERSION = 1;

/** Where the agent that owns the provider runs; providers may skip writes for short-lived contexts. */
export type AgentContextKind = "primary" | "subagent" | "cron" | "flush";

/** Everything a provider learns about its session when it is initialised. */
export interface ProviderInitContext {
  sessionId: string;
  /** Platform the session came from (`cli`, `telegram`, `web`, ...). */
  platform: string;
  userId?: string;
  /** Name or persona of the agent, for providers that keep per-agent memory. */
  agentIdentity?: string;
  /** Session this one continues from (branch, compression, resume). */
  parentSessionId?: string;
  agentContext: AgentContextKind;
  /** Named configuration profile of the host, when it has several. */
  profile?: string;
  /**
   * The memory this session may see, chosen by the host (gateways use `memoryScopeFor`): every session
   * of one person shares a scope, a shared room has its own, and the web app has one for its owner.
   * A provider that keeps memory must keep different scopes apart (one scope never recalls another's
   * facts). Absent: the host has a single scope.
   */
  memoryScope?: string;
  /** Host-specific values; providers must ignore keys they do not know. */
  extra: Record<string, unknown>;
}

/** Per-call context of the turn-level hooks. */
export interface MemoryHookContext {
  /** The session the call is about. Providers that cache a session id should prefer this one. */
  sessionId: string;
}

/** Context of {@link MemoryProvider.onTurnStart}. */
export interface TurnStartContext extends MemoryHookContext {
  /** 1-based index of the user turn within the session. */
  turnNumber: number;
  /** The user message that starts the turn. */
  userMessage: string;
}

/**
 * Why the agent's session id rotated. The listed values are the ones the host emits; providers must
 * treat an unknown reason like a non-reset switch.
 */
export type SessionSwitchReason =
  | "new_session"
  | "reset"
  | "resume"
  | "branch"
  | "compression"
  | "rewind"
  | (string & {});

/** Details of a session switch, as providers receive them. */
export interface SessionSwitchOptions {
  /** The session being left or forked from; undefined on a bare switch (keep any cached parent). */
  parentSessionId: string | undefined;
  /**
   * True for `/new` and `/reset`: the logical conversation ends, so flush or drop per-session buffers.
   * False when it continues under a new id (resume, branch, compression).
   */
  reset: boolean;
  /** True when the conversation was rewound to an earlier turn: turns after it no longer exist. */
  rewound: boolean;
  reason: SessionSwitchReason;
}

/** What kind of write the builtin memory tool performed. */
export type MemoryWriteAction = "add" | "replace" | "remove" | (string & {});

/** Context of {@link MemoryProvider.onDelegation}. */
export interface DelegationContext extends MemoryHookContext {
  /** Session id of the subagent that did the work, when it had one. */
  childSessionId?: string;
}

/**
 * What a provider declares it does, so hosts and third parties can negotiate without calling hooks.
 * A `false` or missing entry means the matching hook is the no-op default.
 */
export interface MemoryProviderCapabilities {
  /** Offers tools through `getToolSchemas` / `handleToolCall`. */
  tools: boolean;
  /** Recalls context in `prefetch` / `queuePrefetch`. */
  prefetch: boolean;
  /** Mirrors completed turns in `syncTurn`. */
  syncTurn: boolean;
  /** Extracts durable memory in `onSessionEnd`. */
  sessionEnd: boolean;
  /** Reacts to `onSessionSwitch` (holds per-session state). */
  sessionSwitch: boolean;
  /** Contributes to context compression in `onPreCompress`. */
  compression: boolean;
  /** Talks to the network (anything beyond the local process and disk). */
  network: boolean;
}

/** The capability record of a provider that declares nothing. */
export const NO_CAPABILITIES: Readonly<MemoryProviderCapabilities> = Object.freeze({
  tools: false,
  prefetch: false,
  syncTurn: false,
  sessionEnd: false,
  sessionSwitch: false,
  compression: false,
  network: false,
});

type MaybePromise<T> = T | Promise<T>;

/**
 * A source of long-term memory plugged into an agent session. The host (through `MemoryManager`)
 * guarantees: `initialize` runs once before any other hook; every hook is called with a time budget and
 * its failure never affects other providers; `syncTurn` calls arrive one at a time in turn order;
 * `shutdown` runs last. Implementers must keep: `isAvailable` is synchronous and never touches the
 * network; hooks never mutate the arrays they receive; everything returned is JSON-serialisable.
 */
export abstract class MemoryProvider {
  /** Unique, stable provider name (`holographic`, `hindsight`, ...). Used in logs and results. */
  abstract readonly name: string;

  /** Contract version the provider was written against. */
  readonly apiVersion: number = MEMORY_PROVIDER_API_VERSION;

  /** What the provider does; override to declare the hooks it implements. */
  readonly capabilities: Readonly<MemoryProviderCapabilities> = NO_CAPABILITIES;

  /**
   * Whether the provider can run here (configuration present, local files readable). Must be
   * synchronous and cheap and must not touch the network: hosts call it while composing a session.
   */
  abstract isAvailable(): boolean;

  /**
   * Prepares per-session state. Called once, before any other hook. A throw (or a timeout) disables
   * the provider for the session: it gets no further hooks, only `shutdown`.
   */
  abstract initialize(ctx: ProviderInitContext): MaybePromise<void>;

  /** Tools the provider offers the model. Must return the same names for the provider's lifetime. */
  abstract getToolSchemas(): ToolSchema[];

  /** Static text appended to the system prompt (instructions, stable profile facts). */
  systemPromptBlock(): MaybePromise<string> {
    return "";
  }

  /**
   * Recalls context relevant to `query` for the coming model call. Return raw text: the manager fences
   * it in `<memory-context>`, so never include the fence tags yourself. A throw or timeout only drops
   * this provider's recall for the turn (reported as a `ProviderResult`).
   */
  prefetch(_query: string, _ctx: MemoryHookContext): MaybePromise<string> {
    return "";
  }

  /** Starts a recall in the background so a later `prefetch` is fast. Runs off the caller's path. */
  queuePrefetch(_query: string, _ctx: MemoryHookContext): MaybePromise<void> {}

  /**
   * Mirrors a completed turn into the provider's log. Must not extract or summarise: extraction happens
   * once, at {@link onSessionEnd}. Runs off the caller's path, serialised per provider. A throw is
   * logged and reported, never retried: keep what must survive for `onSessionEnd` to commit.
   */
  syncTurn(_turn: CompletedTurn, _ctx: MemoryHookContext): MaybePromise<void> {}

  /** Called when a user turn starts, before prefetch. */
  onTurnStart(_ctx: TurnStartContext): MaybePromise<void> {}

  /**
   * The extraction boundary: the session is over and `messages` is its final transcript. Runs after
   * every `syncTurn` queued before it. `ctx.sessionId` is the session that ended (`MemoryManager`
   * always passes it; a host calling a provider directly may not, so fall back to the id from
   * `initialize` or the last switch). Must be idempotent: ending the same session again with the same
   * messages stores nothing new. Throw (reject) when the write failed, so the commit is retried; a
   * swallowed failure loses the memory silently.
   */
  onSessionEnd(_messages: readonly ChatMessage[], _ctx?: MemoryHookContext): MaybePromise<void> {}

  /**
   * The agent's session id rotated mid-process (new, reset, resume, branch, compression, rewind).
   * Providers that cached the session id in `initialize` must switch to `newSessionId`; when
   * `options.reset` is true they should drop per-session buffers so nothing from the old session is
   * written under the new id. Never called with an empty id. Runs after every `syncTurn` queued before it.
   * A throw is reported for this provider only; the switch happens for the others regardless.
   */
  onSessionSwitch(_newSessionId: string, _options: SessionSwitchOptions): MaybePromise<void> {}

  /**
   * Context is about to be compressed and `messages` will be summarised away. Return text the
   * compressor should keep (empty for nothing).
   */
  onPreCompress(_messages: readonly ChatMessage[]): MaybePromise<string> {
    return "";
  }

  /** The host's builtin memory tool wrote something; providers may mirror it. */
  onMemoryWrite(
    _action: MemoryWriteAction,
    _target: string,
    _content: string,
    _metadata: Readonly<Record<string, unknown>>,
  ): MaybePromise<void> {}

  /** A subagent finished `task` with `result`. */
  onDelegation(_task: string, _result: string, _ctx: DelegationContext): MaybePromise<void> {}

  /**
   * Runs one of the tools from {@link getToolSchemas}. The value returned must be JSON-serialisable and
   * always means success.
   *
   * Error contract: when the call cannot run, throw (or reject with) an error carrying a stable string
   * `code`, never return an error-shaped value. Arguments that break the tool's schema:
   * `InvalidArgumentError` (`INVALID_ARGUMENT`; {@link validateToolArguments} does this from the
   * schema). A name the provider does not own: call `super.handleToolCall`, whose default throws
   * `TOOL_NOT_HANDLED`. Other failures: any `EngramError`. `MemoryManager` turns a throw into
   * `{ ok: false, error: { code, message, provider } }` for the model and a hang into
   * `PROVIDER_TIMEOUT`; nothing escapes the turn. The host checks only that `args` is a JSON object.
   */
  handleToolCall(name: string, _args: JsonObject): MaybePromise<JsonValue> {
    throw new ToolNotHandledError(this.name, name);
  }

  /**
   * Releases resources (flush buffered writes first). Called last, possibly more than once, and
   * possibly without `initialize`: must be idempotent and finish quickly (the host bounds it; a throw
   * or timeout is reported and the host moves on).
   */
  shutdown(): MaybePromise<void> {}
}
