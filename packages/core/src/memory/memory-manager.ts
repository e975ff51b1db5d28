import { performance } from "node:perf_hooks";
import { type EngramError, InvalidArgumentError } from "../errors/engram-error.js";
import type { ErrorCode } from "../errors/error-codes.js";
import { type Logger, noopLogger } from "./logger.js";
import { fenceMemoryContext, sanitizeContext } from "./memory-context.js";
import { ProviderFailedError, ProviderTimeoutError, ToolNotFoundError } from "./memory-errors.js";
import type {
  DelegationContext,
  MemoryHookContext,
  MemoryProvider,
  MemoryWriteAction,
  ProviderInitContext,
  SessionSwitchReason,
  TurnStartContext,
} from "./memory-provider.js";
import {
  type ChatMessage,
  type CompletedTurn,
  isToolSchema,
  type JsonObject,
  type JsonValue,
  type ToolCallResult,
  type ToolSchema,
} from "./types.js";

/**
 * Tool names the agent runtime keeps for its own tools; a provider declaring one of them is refused
 * that tool. Hosts with other core tools pass their own list in {@link MemoryManagerProps}.
 */
export const DEFAULT_RESERVED_TOOL_NAMES: ReadonlySet<string> = Object.freeze(
  new Set(["memory", "session_search", "todo", "clarify", "delegate_task", "send_message"]),
);

export interface MemoryManagerProps {
  /** Time budget of every provider hook call (not tools), in ms. Default 5000. */
  hookTimeoutMs?: number;
  /** Time budget of one provider tool call, in ms. Default 30000 (tools may search remote stores). */
  toolTimeoutMs?: number;
  /** Tool names providers may not register. Default {@link DEFAULT_RESERVED_TOOL_NAMES}. */
  reservedToolNames?: Iterable<string>;
  /**
   * How many providers may be active in one session: the host's policy on external memory. Default
   * unlimited: several providers may run side by side, their hooks fanned out to all of them and their
   * tools routed by name (a tool name belongs to the first provider that declared it). A host that wants
   * one external provider at a time sets 1; later `addProvider` calls are then refused.
   */
  maxProviders?: number;
  /** Where warnings about misbehaving providers go. Default: dropped. */
  logger?: Logger;
}

/**
 * Outcome of one provider's part in a fan-out. A failure never throws out of the manager: it is
 * reported here (`PROVIDER_FAILED` with the thrown value as `cause`, or `PROVIDER_TIMEOUT`).
 */
export type ProviderResult<T> =
  | { provider: string; ok: true; value: T; timedOut: false; durationMs: number }
  | { provider: string; ok: false; error: EngramError; timedOut: boolean; durationMs: number };

/** Why `addProvider` refused a provider. */
export type ProviderRefusal = "closed" | "duplicate_name" | "limit_reached" | "unavailable";

/** A tool a provider declared that the manager does not route. */
export interface RejectedTool {
  /** The declared name, or `undefined` when the schema had none. */
  name: string | undefined;
  /** `INVALID_ARGUMENT` (malformed), `TOOL_NAME_RESERVED` or `CONFLICT` (already owned). */
  code: ErrorCode;
  reason: string;
}

/** What `addProvider` did with a provider. */
export interface ProviderRegistration {
  provider: string;
  added: boolean;
  refusal?: ProviderRefusal;
  /** Tools now routed to this provider. */
  tools: string[];
  rejectedTools: RejectedTool[];
}

/** Result of {@link MemoryManager.prefetchAll}. */
export interface PrefetchResult {
  /** Everything recalled, in one `<memory-context>` fence; "" when nothing was recalled. */
  context: string;
  /** Non-empty recall per provider, unfenced and sanitised, in registration order (for UIs). */
  recalls: Array<{ provider: string; text: string }>;
  results: ProviderResult<string>[];
}

/** Result of a fan-out whose text parts are joined (`buildSystemPrompt`, `onPreCompress`). */
export interface JoinedTextResult {
  /** Non-empty provider texts, trimmed, joined with a blank line, in registration order. */
  text: string;
  results: ProviderResult<string>[];
}

/** Input of {@link MemoryManager.onSessionSwitch}. */
export interface SessionSwitchInput {
  reason: SessionSwitchReason;
  parentSessionId?: string;
  /** Default false. */
  reset?: boolean;
  /** Default false. */
  rewound?: boolean;
}

/** Result of {@link MemoryManager.shutdownAll}. */
export interface ShutdownReport {
  /** Whether every queued background write ran before the deadline. */
  drained: boolean;
  /** One result per provider, in shutdown (reverse registration) order. */
  results: ProviderResult<void>[];
}

interface Entry {
  readonly provider: MemoryProvider;
  readonly name: string;
  /** Tail of this provider's serial lane; never rejects. */
  lane: Promise<unknown>;
  /** Set when `initialize` failed: the provider gets no more hooks or tool calls, only `shutdown`. */
  disabled: boolean;
}

const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;
// setTimeout treats anything above 2^31-1 ms (and Infinity) as 1 ms, which would time every call out.
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkDuration(argument: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      argument,
      `must be a finite number of ms in [0, ${MAX_TIMER_MS}], got ${value}`,
    );
  }
  return value;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function joinTexts(results: ProviderResult<string>[]): string {
  return results
    .flatMap((r) => (r.ok && typeof r.value === "string" && r.value.trim() !== "" ? [r.value.trim()] : []))
    .join("\n\n");
}

/**
 * Runs the memory providers of one agent session. Guarantees:
 *
 * - Isolation: every provider call is bounded by a timeout and its failure is caught; one throwing or
 *   hanging provider never blocks another. Fan-outs call providers concurrently and return one
 *   {@link ProviderResult} per provider, never throwing.
 * - Tool routing by name: malformed schemas and reserved names are refused, the first provider to
 *   declare a name owns it, and `handleToolCall` always returns a JSON-serialisable
 *   {@link ToolCallResult}.
 * - Background writes (`syncAll`, `queuePrefetchAll`) return at once and run later, one at a time per
 *   provider, in call order. Each provider has its own lane, so a slow provider delays only its own
 *   writes. `onSessionSwitch` and `onSessionEnd` wait in the same lanes, so a provider sees every turn
 *   synced before the switch or end; `flushPending` waits for everything queued before it.
 * - `shutdownAll` drains the lanes within a deadline, then shuts providers down in reverse
 *   registration order, each bounded by what is left of the deadline.
 */
export class MemoryManager {
  readonly #entries: Entry[] = [];
  readonly #routes = new Map<string, { entry: Entry; schema: ToolSchema }>();
  readonly #reserved: ReadonlySet<string>;
  readonly #hookTimeoutMs: number;
  readonly #toolTimeoutMs: number;
  readonly #maxProviders: number;
  readonly #log: Logger;
  #shutdown: Promise<ShutdownReport> | undefined;
  /** The session the providers are on, as the manager last told them; the default of `onSessionEnd`. */
  #sessionId: string | undefined;

  /** Throws `INVALID_ARGUMENT` for a timeout that is not a finite number of ms or a `maxProviders` < 1. */
  constructor(props: MemoryManagerProps = {}) {
    this.#hookTimeoutMs = checkDuration("hookTimeoutMs", props.hookTimeoutMs ?? 5_000);
    this.#toolTimeoutMs = checkDuration("toolTimeoutMs", props.toolTimeoutMs ?? 30_000);
    this.#maxProviders = props.maxProviders ?? Number.POSITIVE_INFINITY;
    if (
      !(this.#maxProviders >= 1) ||
      !(Number.isInteger(this.#maxProviders) || this.#maxProviders === Infinity)
    ) {
      throw new InvalidArgumentError(
        "maxProviders",
        `must be a whole number >= 1, got ${this.#maxProviders}`,
      );
    }
    this.#reserved = new Set(props.reservedToolNames ?? DEFAULT_RESERVED_TOOL_NAMES);
    this.#log = props.logger ?? noopLogger;
  }

  /** Every registered provider, in registration order (including ones disabled by a failed init). */
  get providers(): readonly MemoryProvider[] {
    return this.#entries.map((e) => e.provider);
  }

  getProvider(name: string): MemoryProvider | undefined {
    return this.#entries.find((e) => e.name === name)?.provider;
  }

  /** Whether `shutdownAll` was called: background work is then dropped and fan-outs call nobody. */
  get closed(): boolean {
    return this.#shutdown !== undefined;
  }

  /**
   * Registers a provider and routes its tools. Refuses (without throwing) a provider that is
   * unavailable, over the `maxProviders` policy, or named like one already registered.
   */
  addProvider(provider: MemoryProvider): ProviderRegistration {
    const name = provider.name;
    const refuse = (refusal: ProviderRefusal): ProviderRegistration => {
      this.#log.warn({ provider: name, refusal }, "memory provider not added");
      return { provider: name, added: false, refusal, tools: [], rejectedTools: [] };
    };
    if (this.closed) return refuse("closed");
    if (this.#entries.some((e) => e.name === name)) return refuse("duplicate_name");
    if (this.#entries.length >= this.#maxProviders) return refuse("limit_reached");
    let available = false;
    try {
      available = provider.isAvailable() === true;
    } catch (error) {
      this.#log.warn({ provider: name, err: error }, "memory provider isAvailable threw");
    }
    if (!available) return refuse("unavailable");

    const entry: Entry = { provider, name, lane: Promise.resolve(), disabled: false };
    this.#entries.push(entry);
    const registration: ProviderRegistration = { provider: name, added: true, tools: [], rejectedTools: [] };
    const reject = (toolName: string | undefined, code: ErrorCode, reason: string) => {
      registration.rejectedTools.push({ name: toolName, code, reason });
      this.#log.warn({ provider: name, tool: toolName, code }, `memory provider tool skipped: ${reason}`);
    };

    let schemas: unknown;
    try {
      schemas = provider.getToolSchemas();
    } catch (error) {
      this.#log.warn({ provider: name, err: error }, "memory provider getToolSchemas threw; no tools");
      return registration;
    }
    if (!Array.isArray(schemas)) {
      reject(undefined, "INVALID_ARGUMENT", "getToolSchemas did not return an array");
      return registration;
    }
    for (const schema of schemas as unknown[]) {
      const declared = (schema as { name?: unknown } | null)?.name;
      const toolName = typeof declared === "string" ? declared : undefined;
      if (!isToolSchema(schema)) {
        reject(toolName, "INVALID_ARGUMENT", "malformed schema (needs name, description, object parameters)");
      } else if (this.#reserved.has(schema.name)) {
        reject(schema.name, "TOOL_NAME_RESERVED", "name is reserved for core tools");
      } else if (this.#routes.has(schema.name)) {
        const owner = this.#routes.get(schema.name)?.entry.name;
        reject(schema.name, "CONFLICT", `already owned by provider "${owner}"`);
      } else {
        this.#routes.set(schema.name, { entry, schema });
        registration.tools.push(schema.name);
      }
    }
    return registration;
  }

  /**
   * Initialises every provider. A provider whose `initialize` fails or times out is disabled for the
   * rest of the session: it gets no further hooks or tool calls, only `shutdown`.
   */
  async initializeAll(ctx: ProviderInitContext): Promise<ProviderResult<void>[]> {
    this.#sessionId = ctx.sessionId;
    const results = await this.#fanOut("initialize", (p) => p.initialize(ctx));
    for (const result of results) {
      if (result.ok) continue;
      const entry = this.#entries.find((e) => e.name === result.provider);
      if (entry) entry.disabled = true;
      this.#log.warn({ provider: result.provider, code: result.error.code }, "memory provider disabled");
    }
    return results;
  }

  /** Joins the providers' system-prompt blocks. */
  async buildSystemPrompt(): Promise<JoinedTextResult> {
    const results = await this.#fanOut("systemPromptBlock", (p) => p.systemPromptBlock());
    return { text: joinTexts(results), results };
  }

  /** Recalls context for `query` from every provider and fences the combination once. */
  async prefetchAll(query: string, ctx: MemoryHookContext): Promise<PrefetchResult> {
    const results = await this.#fanOut("prefetch", (p) => p.prefetch(query, ctx));
    const recalls: PrefetchResult["recalls"] = [];
    for (const r of results) {
      if (!r.ok || typeof r.value !== "string") continue;
      const text = sanitizeContext(r.value).trim();
      if (text !== "") recalls.push({ provider: r.provider, text });
    }
    return { context: fenceMemoryContext(recalls.map((r) => r.text).join("\n\n")), recalls, results };
  }

  /** Queues a background prefetch on every provider; returns at once. */
  queuePrefetchAll(query: string, ctx: MemoryHookContext): void {
    this.#enqueueBackground("queuePrefetch", (p) => p.queuePrefetch(query, ctx));
  }

  /** Queues `turn` to be mirrored by every provider; returns at once. */
  syncAll(turn: CompletedTurn, ctx: MemoryHookContext): void {
    this.#enqueueBackground("syncTurn", (p) => p.syncTurn(turn, ctx));
  }

  /** Resolves once every background write queued before this call has run (or timed out). */
  async flushPending(): Promise<void> {
    await Promise.all(this.#entries.map((e) => e.lane));
  }

  /** Every routed tool schema, in registration order. */
  getAllToolSchemas(): ToolSchema[] {
    return [...this.#routes.values()].filter((r) => !r.entry.disabled).map((r) => r.schema);
  }

  hasTool(name: string): boolean {
    const route = this.#routes.get(name);
    return route !== undefined && !route.entry.disabled;
  }

  /**
   * Routes a tool call to the provider that owns `name`. Never throws: an unknown tool, a provider
   * failure or timeout, or a result that is not JSON all come back as `{ ok: false, error }`.
   */
  async handleToolCall(name: string, args: JsonObject): Promise<ToolCallResult> {
    const route = this.#routes.get(name);
    if (route === undefined || route.entry.disabled || this.closed) {
      const error = new ToolNotFoundError(name);
      return { ok: false, error: { code: error.code, message: error.message } };
    }
    const provider = route.entry.name;
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      return {
        ok: false,
        error: {
          code: "INVALID_ARGUMENT",
          message: `Arguments of tool "${name}" must be an object`,
          provider,
        },
      };
    }
    const result = await this.#invoke(route.entry, `tool ${name}`, this.#toolTimeoutMs, (p) =>
      p.handleToolCall(name, args),
    );
    if (!result.ok) {
      // Surface the provider's own code (e.g. TOOL_NOT_HANDLED) when it threw a typed error.
      const cause = result.error.cause as { code?: unknown } | undefined;
      const code = !result.timedOut && typeof cause?.code === "string" ? cause.code : result.error.code;
      return { ok: false, error: { code, message: result.error.message, provider } };
    }
    try {
      const json = JSON.stringify(result.value);
      return { ok: true, provider, value: json === undefined ? null : (JSON.parse(json) as JsonValue) };
    } catch (error) {
      const failure = new ProviderFailedError(provider, `tool ${name} (result is not JSON)`, error);
      this.#log.warn({ provider, tool: name }, failure.message);
      return { ok: false, error: { code: failure.code, message: failure.message, provider } };
    }
  }

  onTurnStart(ctx: TurnStartContext): Promise<ProviderResult<void>[]> {
    return this.#fanOut("onTurnStart", (p) => p.onTurnStart(ctx));
  }

  /**
   * The extraction boundary. Each provider sees it after every turn queued for it before this call,
   * with `ctx` (default: the session of `initializeAll` or of the last switch, as it is now).
   */
  onSessionEnd(messages: readonly ChatMessage[], ctx?: MemoryHookContext): Promise<ProviderResult<void>[]> {
    const sessionId = ctx?.sessionId ?? this.#sessionId;
    const hookCtx: MemoryHookContext | undefined = sessionId ? { sessionId } : undefined;
    return this.#fanOutInLanes("onSessionEnd", (p) => p.onSessionEnd(messages, hookCtx));
  }

  /**
   * Tells every provider the session id rotated. A blank `newSessionId` is a no-op (resolves to no
   * results): shutdown paths may pass one, and forwarding it would corrupt provider state. Each provider
   * sees the switch after every turn queued for it before this call, so old turns land in the old session.
   */
  async onSessionSwitch(newSessionId: string, input: SessionSwitchInput): Promise<ProviderResult<void>[]> {
    if (typeof newSessionId !== "string" || newSessionId.trim() === "") {
      this.#log.debug({ reason: input.reason }, "onSessionSwitch with blank session id ignored");
      return [];
    }
    const options = {
      parentSessionId: input.parentSessionId === "" ? undefined : input.parentSessionId,
      reset: input.reset ?? false,
      rewound: input.rewound ?? false,
      reason: input.reason,
    };
    this.#sessionId = newSessionId;
    return this.#fanOutInLanes("onSessionSwitch", (p) => p.onSessionSwitch(newSessionId, options));
  }

  /** Collects what providers want kept before `messages` are compressed away. */
  async onPreCompress(messages: readonly ChatMessage[]): Promise<JoinedTextResult> {
    const results = await this.#fanOut("onPreCompress", (p) => p.onPreCompress(messages));
    return { text: joinTexts(results), results };
  }

  onMemoryWrite(
    action: MemoryWriteAction,
    target: string,
    content: string,
    metadata: Readonly<Record<string, unknown>> = {},
  ): Promise<ProviderResult<void>[]> {
    return this.#fanOut("onMemoryWrite", (p) => p.onMemoryWrite(action, target, content, metadata));
  }

  onDelegation(task: string, result: string, ctx: DelegationContext): Promise<ProviderResult<void>[]> {
    return this.#fanOut("onDelegation", (p) => p.onDelegation(task, result, ctx));
  }

  /**
   * Stops the manager: new background writes are dropped, queued ones get until the deadline to run,
   * then every provider (disabled ones included) is shut down in reverse registration order, each
   * bounded by the hook timeout and what is left of the deadline. Resolves within about `deadlineMs`
   * (default 10000) even if providers hang. Calling it again returns the same report.
   */
  shutdownAll(props: { deadlineMs?: number } = {}): Promise<ShutdownReport> {
    if (this.#shutdown) return this.#shutdown;
    const deadlineMs = checkDuration("deadlineMs", props.deadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS);
    this.#shutdown = this.#runShutdown(deadlineMs);
    return this.#shutdown;
  }

  async #runShutdown(deadlineMs: number): Promise<ShutdownReport> {
    const deadline = performance.now() + deadlineMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      this.flushPending().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) this.#log.warn({ deadlineMs }, "memory background writes not drained before deadline");
    const results: ProviderResult<void>[] = [];
    for (const entry of [...this.#entries].reverse()) {
      const budget = Math.min(this.#hookTimeoutMs, Math.max(0, deadline - performance.now()));
      results.push(await this.#invoke(entry, "shutdown", budget, (p) => p.shutdown()));
    }
    return { drained, results };
  }

  #active(): Entry[] {
    return this.closed ? [] : this.#entries.filter((e) => !e.disabled);
  }

  #fanOut<T>(
    operation: string,
    call: (p: MemoryProvider) => T | PromiseLike<T>,
  ): Promise<ProviderResult<T>[]> {
    return Promise.all(this.#active().map((e) => this.#invoke(e, operation, this.#hookTimeoutMs, call)));
  }

  #fanOutInLanes<T>(
    operation: string,
    call: (p: MemoryProvider) => T | PromiseLike<T>,
  ): Promise<ProviderResult<T>[]> {
    return Promise.all(this.#active().map((e) => this.#inLane(e, operation, call)));
  }

  #enqueueBackground(operation: string, call: (p: MemoryProvider) => unknown): void {
    if (this.closed) {
      this.#log.warn({ operation }, "memory manager is shut down; background write dropped");
      return;
    }
    for (const entry of this.#active()) void this.#inLane(entry, operation, call);
  }

  /** Appends a call to the provider's serial lane; the call's own time budget starts when it runs. */
  #inLane<T>(
    entry: Entry,
    operation: string,
    call: (p: MemoryProvider) => T | PromiseLike<T>,
  ): Promise<ProviderResult<T>> {
    const run = entry.lane.then(() => this.#invoke(entry, operation, this.#hookTimeoutMs, call));
    // Keep the lane alive even if a custom logger throws inside #invoke.
    entry.lane = run.catch(() => undefined);
    return run;
  }

  /** Calls one provider, converting throws, rejections and timeouts into a result. Never rejects. */
  #invoke<T>(
    entry: Entry,
    operation: string,
    timeoutMs: number,
    call: (p: MemoryProvider) => T | PromiseLike<T>,
  ): Promise<ProviderResult<T>> {
    const provider = entry.name;
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const failed = (cause: unknown): ProviderResult<T> => {
      const error = new ProviderFailedError(provider, operation, cause);
      this.#log.warn({ provider, operation, err: cause }, error.message);
      return { provider, ok: false, error, timedOut: false, durationMs: elapsed() };
    };
    let pending: T | PromiseLike<T>;
    try {
      pending = call(entry.provider);
    } catch (error) {
      return Promise.resolve(failed(error));
    }
    if (!isPromiseLike(pending)) {
      return Promise.resolve({ provider, ok: true, value: pending, timedOut: false, durationMs: elapsed() });
    }
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        const error = new ProviderTimeoutError(provider, operation, timeoutMs);
        this.#log.warn({ provider, operation, timeoutMs }, error.message);
        resolve({ provider, ok: false, error, timedOut: true, durationMs: elapsed() });
      }, timeoutMs);
      pending.then(
        (value) => {
          if (settled) return;
          clearTimeout(timer);
          resolve({ provider, ok: true, value, timedOut: false, durationMs: elapsed() });
        },
        (error: unknown) => {
          if (settled) {
            this.#log.debug({ provider, operation, err: error }, "memory provider failed after its timeout");
            return;
          }
          clearTimeout(timer);
          resolve(failed(error));
        },
      );
    });
  }
}
