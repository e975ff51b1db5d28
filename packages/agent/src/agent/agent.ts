import {
  type ChatMessage,
  createContextSanitizer,
  EngramError,
  type JsonObject,
  type Logger,
  MemoryCommitFailedError,
  MemoryManager,
  type MemoryProvider,
  noopLogger,
  type ProviderInitContext,
  type ProviderResult,
  type ShutdownReport,
  sanitizeContext,
  type ToolCall,
  type ToolCallResult,
} from "@engram/core";
import type { Compressor } from "../compression/compressor.js";
import { SummaryCompressor } from "../compression/summary-compressor.js";
import { estimateTokens } from "../compression/token-estimate.js";
import {
  addUsage,
  type ChatCompletion,
  type ChatModel,
  isAbortError,
  type TokenUsage,
  ZERO_USAGE,
} from "../model/chat-model.js";
import { OfflineModel } from "../model/offline-model.js";
import type {
  AgentEvent,
  MemoryRecall,
  RunTurnOptions,
  SessionRotation,
  SwitchSessionOptions,
  TurnResult,
  TurnStopReason,
} from "./agent-types.js";

export interface CompressOptions {
  /**
   * Commit the parent session's memory before compressing (default true). A host that commits through
   * a `MemoryCommitCoordinator` does that first and passes false, so the turns are committed once.
   */
  commit?: boolean;
}

export interface AgentProps {
  sessionId: string;
  /** Default: {@link OfflineModel}. */
  model?: ChatModel;
  /** The session's memory manager (the host initialises it). */
  memory?: MemoryManager;
  /** Providers to build a manager from when `memory` is absent; {@link Agent.initialize} initialises them. */
  providers?: MemoryProvider[];
  /** Base system prompt; provider blocks are appended. */
  systemPrompt?: string;
  /** Most model calls that may request tools in one turn; then one last call without tools. Default 8. */
  maxToolIterations?: number;
  /** Compress when the estimated history tokens exceed this. Default: never. */
  tokenBudget?: number;
  /** Default {@link SummaryCompressor}. */
  compressor?: Compressor;
  /** Port the host persists rotations through (parent link, end reason). A throw cancels the rotation. */
  onSessionRotated?: (rotation: SessionRotation) => void | Promise<void>;
  /** New session ids for rotations. Default random UUIDs. */
  createSessionId?: () => string;
  /** Platform reported to providers built from `providers`. Default "cli". */
  platform?: string;
  /**
   * What providers built from `providers` learn about the session besides its id and platform (user,
   * memory scope, ...): the same context the host built them with. {@link Agent.initialize}'s
   * argument wins over it.
   */
  initContext?: Partial<Omit<ProviderInitContext, "sessionId">>;
  /**
   * Runs once, after {@link Agent.shutdown} shut the providers down: the host releases what it built
   * for this agent's session (its child container).
   */
  onShutdown?: () => void | Promise<void>;
  clock?: { now(): number };
  logger?: Logger;
}

/**
 * The runtime of one session: recalls memory, runs the model and its tool loop, and feeds completed
 * turns back to memory. Guarantees: recalled memory reaches the model only inside the current user
 * message and never appears in returned messages or in model output passed on; only completed turns are
 * synced; the tool loop is bounded; provider failures never end a turn (they become tool results).
 */
export class Agent {
  #sessionId: string;
  #model: ChatModel;
  readonly memory: MemoryManager;
  readonly #ownsMemory: boolean;
  readonly #props: AgentProps;
  readonly #maxToolIterations: number;
  readonly #compressor: Compressor;
  readonly #log: Logger;
  readonly #clock: { now(): number };
  #lastHistory: ChatMessage[] = [];
  #systemBlock: string | undefined;
  #turnRunning = false;
  #shutdown: Promise<ShutdownReport> | undefined;

  constructor(props: AgentProps) {
    this.#props = props;
    this.#sessionId = props.sessionId;
    this.#model = props.model ?? new OfflineModel();
    this.#log = props.logger ?? noopLogger;
    this.#clock = props.clock ?? Date;
    this.#maxToolIterations = props.maxToolIterations ?? 8;
    this.#compressor = props.compressor ?? new SummaryCompressor();
    this.#ownsMemory = props.memory === undefined;
    this.memory = props.memory ?? new MemoryManager({ logger: this.#log });
    if (this.#ownsMemory) for (const p of props.providers ?? []) this.memory.addProvider(p);
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** The model turns run on. */
  get model(): ChatModel {
    return this.#model;
  }

  /**
   * Runs later turns on `model` (a session's `/model` override). A turn already running keeps the
   * model it started with; memory and history are untouched.
   */
  useModel(model: ChatModel): void {
    this.#model = model;
  }

  /** The history as of the last turn (what `commitMemorySession()` commits when given nothing). */
  get lastHistory(): readonly ChatMessage[] {
    return this.#lastHistory;
  }

  /** Initialises providers the agent was given as `providers` (no-op for a host-owned manager). */
  async initialize(extra: Partial<ProviderInitContext> = {}): Promise<ProviderResult<void>[]> {
    if (!this.#ownsMemory) return [];
    return this.memory.initializeAll({
      platform: this.#props.platform ?? "cli",
      agentContext: "primary",
      extra: {},
      ...this.#props.initContext,
      sessionId: this.#sessionId,
      ...extra,
    });
  }

  /**
   * Runs one user turn. One turn at a time per agent: a call while another runs rejects with
   * `STREAM_ACTIVE` (the order of the session's transcript depends on it).
   */
  async runTurn(
    userMessage: string,
    history: readonly ChatMessage[],
    options: RunTurnOptions = {},
  ): Promise<TurnResult> {
    if (this.#turnRunning) {
      throw new EngramError(
        "STREAM_ACTIVE",
        `Session ${JSON.stringify(this.#sessionId)} already has a turn running; one turn at a time per agent`,
        { details: { sessionId: this.#sessionId } },
      );
    }
    this.#turnRunning = true;
    try {
      return await this.#runTurn(userMessage, history, options);
    } finally {
      this.#turnRunning = false;
    }
  }

  async #runTurn(
    userMessage: string,
    history: readonly ChatMessage[],
    options: RunTurnOptions,
  ): Promise<TurnResult> {
    const { signal } = options;
    const emit = (event: AgentEvent): void => {
      if (!options.onEvent) return;
      try {
        options.onEvent(event);
      } catch (error) {
        this.#log.warn({ sessionId: this.#sessionId, event: event.type, error }, "onEvent listener threw");
      }
    };
    const userText = sanitizeContext(userMessage);
    let rotation: SessionRotation | undefined;
    let past: readonly ChatMessage[] = history;
    if (this.#props.tokenBudget !== undefined) {
      const estimate = estimateTokens(history) + estimateTokens([{ role: "user", content: userText }]);
      if (estimate > this.#props.tokenBudget) {
        rotation = await this.compress(history, signal);
        if (rotation) {
          past = rotation.messages;
          emit({ type: "session_rotated", rotation });
        }
      }
    }
    const sessionId = this.#sessionId;
    const turnModel = this.#model;
    const ctx = { sessionId };
    const turnNumber = past.filter((m) => m.role === "user").length + 1;
    emit({ type: "turn_start", sessionId, turnNumber });

    await this.memory.onTurnStart({ sessionId, turnNumber, userMessage: userText });
    const prefetch = await this.memory.prefetchAll(userText, ctx);
    const recalls: MemoryRecall[] = prefetch.recalls;
    emit({ type: "memory_recall", recalls });

    const system = [await this.#systemPrompt(), ...(options.systemNotes ?? [])]
      .filter((s) => s.trim() !== "")
      .join("\n\n");
    const userForModel = prefetch.context === "" ? userText : `${userText}\n\n${prefetch.context}`;
    // The fenced recall lives only in this call-time copy; `produced` holds what gets persisted.
    const modelMessages: ChatMessage[] = [
      ...(system === "" ? [] : [{ role: "system" as const, content: system }]),
      ...past,
      { role: "user", content: userForModel },
    ];
    const produced: ChatMessage[] = [{ role: "user", content: userText }];
    let usage: TokenUsage = { ...ZERO_USAGE };
    const allCalls: ToolCall[] = [];
    let reply = "";
    let stopReason: TurnStopReason = "completed";
    let failure: Error | undefined;

    try {
      for (let iteration = 0; ; iteration++) {
        const offerTools = iteration < this.#maxToolIterations;
        const tools = offerTools ? this.memory.getAllToolSchemas() : [];
        const { completion, text } = await this.#callModel(
          turnModel,
          modelMessages,
          tools,
          signal,
          emit,
          produced,
        );
        usage = addUsage(usage, completion.usage);
        const calls = offerTools ? completion.toolCalls : [];
        const assistant: ChatMessage = {
          role: "assistant",
          content: text,
          ...(calls.length > 0 ? { toolCalls: calls } : {}),
        };
        modelMessages.push(assistant);
        produced.push(assistant);
        if (calls.length === 0) {
          reply = text;
          break;
        }
        for (const call of calls) {
          allCalls.push(call);
          emit({ type: "tool_call", call });
          const result = await this.#runTool(call);
          emit({ type: "tool_result", callId: call.id, name: call.name, result });
          const toolMessage: ChatMessage = {
            role: "tool",
            content: JSON.stringify(result),
            toolCallId: call.id,
            name: call.name,
          };
          modelMessages.push(toolMessage);
          produced.push(toolMessage);
        }
        if (signal?.aborted) throw signal.reason ?? new Error("aborted");
      }
    } catch (error) {
      stopReason = signal?.aborted || isAbortError(error) ? "aborted" : "model_error";
      failure = error instanceof Error ? error : new Error(String(error));
      this.#log.warn(
        { sessionId, stopReason, error: failure.message },
        "turn interrupted; not synced to memory",
      );
    }

    const completed = stopReason === "completed";
    this.#lastHistory = [...past, ...produced];
    if (completed) {
      this.memory.syncAll(
        {
          sessionId,
          user: userText,
          assistant: reply,
          ...(allCalls.length > 0 ? { toolCalls: allCalls } : {}),
          timestamp: this.#clock.now(),
        },
        ctx,
      );
      this.memory.queuePrefetchAll(userText, ctx);
    }
    emit({ type: "usage", usage });
    emit({ type: "turn_end", completed, stopReason });
    return {
      sessionId,
      messages: produced,
      reply: completed ? reply : "",
      usage,
      recalls,
      completed,
      stopReason,
      ...(failure ? { error: failure } : {}),
      ...(rotation ? { rotation } : {}),
    };
  }

  /**
   * Streams one model call through the context sanitizer. On failure the text streamed so far is kept
   * as a partial assistant message in `produced`, so an interrupted reply can still be shown.
   */
  async #callModel(
    model: ChatModel,
    messages: readonly ChatMessage[],
    tools: ReturnType<MemoryManager["getAllToolSchemas"]>,
    signal: AbortSignal | undefined,
    emit: (event: AgentEvent) => void,
    produced: ChatMessage[],
  ): Promise<{ completion: ChatCompletion; text: string }> {
    const sanitizer = createContextSanitizer();
    let text = "";
    try {
      for await (const event of model.stream({ messages, tools }, signal ? { signal } : {})) {
        if (event.type === "text") {
          const safe = sanitizer.push(event.delta);
          if (safe !== "") {
            text += safe;
            emit({ type: "text", delta: safe });
          }
        } else if (event.type === "done") {
          const rest = sanitizer.end();
          if (rest !== "") {
            text += rest;
            emit({ type: "text", delta: rest });
          }
          // Trust the assembled completion over the deltas, but never its unsanitised text.
          return { completion: event.completion, text: sanitizeContext(event.completion.text) };
        }
      }
      throw new Error(`model ${model.id} ended its stream without a done event`);
    } catch (error) {
      if (text !== "") produced.push({ role: "assistant", content: text });
      throw error;
    }
  }

  async #runTool(call: ToolCall): Promise<ToolCallResult> {
    let args: unknown;
    try {
      args = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
    } catch {
      return {
        ok: false,
        error: { code: "INVALID_ARGUMENT", message: `Arguments of tool "${call.name}" are not valid JSON` },
      };
    }
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      return {
        ok: false,
        error: {
          code: "INVALID_ARGUMENT",
          message: `Arguments of tool "${call.name}" must be a JSON object`,
        },
      };
    }
    return this.memory.handleToolCall(call.name, args as JsonObject);
  }

  async #systemPrompt(): Promise<string> {
    if (this.#systemBlock === undefined) {
      const blocks = await this.memory.buildSystemPrompt();
      this.#systemBlock = [this.#props.systemPrompt ?? "", blocks.text]
        .filter((s) => s.trim() !== "")
        .join("\n\n");
    }
    return this.#systemBlock;
  }

  /**
   * Compresses `history` and rotates to a child session: onPreCompress -> commitMemorySession ->
   * compress -> host port (persists the parent link and end reason) -> onSessionSwitch("compression").
   * Returns undefined (and stays in the current session) when there is nothing to compress or the
   * host port refused the rotation.
   */
  async compress(
    history: readonly ChatMessage[],
    signal?: AbortSignal,
    options: CompressOptions = {},
  ): Promise<SessionRotation | undefined> {
    const parentSessionId = this.#sessionId;
    if (this.#compressor.wouldCompress?.(history) === false) return undefined;
    const note = await this.memory.onPreCompress(history);
    if (options.commit !== false) {
      await this.commitMemorySession(history).catch((error: unknown) => {
        // The commit coordinator retries failed commits; compression must not wait on it.
        this.#log.warn({ sessionId: parentSessionId, error }, "commit before compression failed");
      });
    }
    const messages = await this.#compressor.compress(history, {
      providerNote: note.text,
      ...(signal ? { signal } : {}),
    });
    if (messages.length >= history.length) return undefined;
    const rotation: SessionRotation = {
      parentSessionId,
      sessionId: this.#props.createSessionId?.() ?? globalThis.crypto.randomUUID(),
      endReason: "compression",
      messages,
    };
    try {
      await this.#props.onSessionRotated?.(rotation);
    } catch (error) {
      this.#log.warn({ sessionId: parentSessionId, error }, "host refused the compression rotation");
      return undefined;
    }
    this.#sessionId = rotation.sessionId;
    this.#lastHistory = messages;
    this.#systemBlock = undefined;
    await this.memory.onSessionSwitch(rotation.sessionId, {
      parentSessionId,
      reason: "compression",
      reset: false,
    });
    return rotation;
  }

  /**
   * Ends the providers' session (`onSessionEnd`, the extraction boundary) without tearing them down.
   * With no argument it commits the history of the last turn, so a `MemoryCommitCoordinator` can call
   * it. Throws {@link MemoryCommitFailedError} when any provider failed, so the commit is retried.
   */
  async commitMemorySession(messages?: readonly ChatMessage[]): Promise<void> {
    const results = await this.memory.onSessionEnd(messages ?? this.#lastHistory);
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      throw new MemoryCommitFailedError(
        this.#sessionId,
        failed.map((r) => (r.ok ? undefined : r.error)),
      );
    }
  }

  /** Commits (best effort) and shuts every provider down. The agent is unusable afterwards. */
  async shutdownMemoryProvider(
    messages?: readonly ChatMessage[],
    props: { deadlineMs?: number } = {},
  ): Promise<ShutdownReport> {
    try {
      await this.commitMemorySession(messages);
    } catch (error) {
      this.#log.warn({ sessionId: this.#sessionId, error }, "commit at shutdown failed");
    }
    return this.shutdown(props);
  }

  /**
   * Shuts every provider down without committing (the host committed, or drops the work on purpose),
   * then runs `onShutdown` once. Repeat calls share the first one's outcome. The agent is unusable
   * afterwards.
   */
  shutdown(props: { deadlineMs?: number } = {}): Promise<ShutdownReport> {
    this.#shutdown ??= (async () => {
      try {
        return await this.memory.shutdownAll(props);
      } finally {
        try {
          await this.#props.onShutdown?.();
        } catch (error) {
          this.#log.warn({ sessionId: this.#sessionId, error }, "releasing the agent's session scope failed");
        }
      }
    })();
    return this.#shutdown;
  }

  /** Moves the agent to `newSessionId` and tells every provider why. */
  async switchSession(newSessionId: string, options: SwitchSessionOptions): Promise<ProviderResult<void>[]> {
    const parentSessionId = options.parentSessionId ?? this.#sessionId;
    this.#sessionId = newSessionId;
    // Provider prompt blocks may depend on the session; rebuild on the next turn.
    this.#systemBlock = undefined;
    if (options.reset) this.#lastHistory = [];
    return this.memory.onSessionSwitch(newSessionId, {
      reason: options.reason,
      parentSessionId,
      reset: options.reset ?? false,
      rewound: options.rewound ?? false,
    });
  }
}
