import { Agent, AgentCache, type ChatModel, type IdleSweepReport } from "@engram/agent";
import {
  type ChatMessage,
  type Clock,
  type CommittableAgent,
  EngramError,
  isEngramError,
  type MemoryCommitCoordinator,
  MemoryCommitFailedError,
  type MemoryProvider,
  type ModelOverride,
  type ProviderInitContext,
  type SessionSource,
  systemClock,
  type TranscriptMessage,
} from "@engram/core";
import type { CompressProps, SessionSwitchProps, TurnInput, TurnOutput, TurnRunner } from "./turn-runner.js";

export type { IdleSweepReport } from "@engram/agent";

/** Default cap on live agents; the least recently used idle one is dropped beyond it. */
export const DEFAULT_MAX_AGENTS = 128;
/** Default idle time after which an agent is dropped by {@link AgentTurnRunner.sweepIdle}. */
export const DEFAULT_AGENT_IDLE_TTL_MS = 60 * 60 * 1000;

/** A turn whose model call failed: nothing of it is saved or counted; the user's message stays. */
export class TurnFailedError extends EngramError {
  constructor(sessionId: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    // The model server's HTTP status tells a client what to fix (key, rate limit, model name).
    const status = isEngramError(cause) ? cause.details?.status : undefined;
    super("MODEL_FAILED", `The turn of session ${JSON.stringify(sessionId)} failed: ${why}`, {
      cause,
      details: { sessionId, ...(typeof status === "number" ? { status } : {}) },
    });
    this.name = "TurnFailedError";
  }
}

/** The session an agent's providers are built for. */
export interface AgentTurnSession {
  readonly sessionId: string;
  /** Where the session's messages come from; it decides the memory scope. */
  readonly source: SessionSource;
}

/**
 * One session's providers as a host builds them (`EngramHost.openSession`): the context they were
 * built with (given to their `initialize`) and the release of what was built for the session, run
 * once the agent's providers shut down.
 */
export interface AgentSessionMemory {
  readonly providers: MemoryProvider[];
  readonly context?: Partial<ProviderInitContext>;
  readonly dispose?: () => void | Promise<void>;
}

export interface AgentTurnRunnerProps {
  readonly coordinator: MemoryCommitCoordinator;
  /**
   * Fresh providers for one session's agent (they may share stores, e.g. one per memory scope): a
   * list, or a host's session memory with its context and disposal.
   */
  readonly providers: (session: AgentTurnSession) => MemoryProvider[] | AgentSessionMemory;
  /** Default: the agent's own default (the offline model). */
  readonly model?: ChatModel;
  /**
   * The model of a session's `/model` override, or `undefined` when this gateway cannot serve it
   * (then the default model answers). Called again only when the override changes.
   */
  readonly modelFor?: (override: ModelOverride) => ChatModel | undefined;
  readonly maxAgents?: number;
  /** Idle time after which {@link AgentTurnRunner.sweepIdle} drops an agent (default 1 h). */
  readonly idleTtlMs?: number;
  readonly clock?: Clock;
  /** Platform reported to providers. Default "gateway". */
  readonly platform?: string;
}

/**
 * Runs turns with `@engram/agent`: one {@link Agent} per session id in an {@link AgentCache} (LRU cap,
 * idle TTL, commit through the coordinator before any drop, never a drop mid-turn). An agent is built
 * for the session's source, so its providers use that person's (or room's) memory scope.
 */
export class AgentTurnRunner implements TurnRunner {
  readonly #props: AgentTurnRunnerProps;
  readonly #cache: AgentCache;
  /** The override each agent's model was built for (absent: the default model). */
  readonly #modelKeys = new WeakMap<Agent, string>();
  /** The rotation a running `compress` call persists, per agent. */
  readonly #rotations = new Map<Agent, CompressProps>();

  constructor(props: AgentTurnRunnerProps) {
    this.#props = props;
    this.#cache = new AgentCache({
      coordinator: props.coordinator,
      maxAgents: Math.max(1, Math.floor(props.maxAgents ?? DEFAULT_MAX_AGENTS)),
      idleTtlMs: props.idleTtlMs ?? DEFAULT_AGENT_IDLE_TTL_MS,
      clock: props.clock ?? systemClock,
    });
  }

  get cachedAgents(): number {
    return this.#cache.size;
  }

  runTurn(input: TurnInput): Promise<TurnOutput> {
    const session = { sessionId: input.sessionId, source: input.source };
    return this.#cache.use(input.sessionId, this.#creator(session), async (agent) => {
      this.#applyModel(agent, input.modelOverride);
      const result = await agent.runTurn(input.text, toChatHistory(input.history), {
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.systemNotes ? { systemNotes: input.systemNotes } : {}),
        ...(input.onEvent ? { onEvent: input.onEvent } : {}),
      });
      // Queued syncs land before the turn counts as completed (and may be committed).
      await agent.memory.flushPending();
      if (result.completed) {
        await input.onCompleted({ reply: result.reply, agent, messages: result.messages });
        return { reply: result.reply, completed: true, recalls: result.recalls };
      }
      if (result.stopReason === "aborted") return { reply: "", completed: false, recalls: result.recalls };
      throw new TurnFailedError(input.sessionId, result.error);
    });
  }

  async onSessionSwitch(newSessionId: string, props: SessionSwitchProps): Promise<void> {
    const session = { sessionId: newSessionId, source: props.source };
    await this.#cache.use(newSessionId, this.#creator(session), (agent) =>
      agent.switchSession(newSessionId, {
        ...(props.parentSessionId === null ? {} : { parentSessionId: props.parentSessionId }),
        reset: props.reset,
        rewound: props.rewound ?? false,
        reason: props.reason,
      }),
    );
  }

  /**
   * Compresses through the session's agent (onPreCompress, summary, onSessionSwitch "compression");
   * the caller committed the parent's memory through the coordinator, so the agent does not commit
   * again. On success the agent serves the child session id.
   */
  async compress(props: CompressProps): Promise<boolean> {
    const session = { sessionId: props.sessionId, source: props.source };
    const rotation = await this.#cache.use(props.sessionId, this.#creator(session), async (agent) => {
      this.#rotations.set(agent, props);
      try {
        return await agent.compress(toChatHistory(props.history), undefined, { commit: false });
      } finally {
        this.#rotations.delete(agent);
      }
    });
    if (!rotation) return false;
    this.#cache.rekey(props.sessionId, rotation.sessionId);
    return true;
  }

  evict(sessionId: string): void {
    this.#cache.evict(sessionId);
  }

  /** Drops agents idle for longer than the TTL, committing their work first (see {@link AgentCache}). */
  sweepIdle(): Promise<IdleSweepReport> {
    return this.#cache.sweepIdle();
  }

  /** Shuts every cached agent's providers down (after the coordinator drained). */
  close(): Promise<void> {
    return this.#cache.close();
  }

  /**
   * Commits a stored session whose agent is gone (see {@link TurnRunner.committerFor}): every commit
   * builds the session's providers afresh, ends their session with the stored transcript (what the
   * lost agent's history held) and shuts them down, so a retry later sees the transcript as it is then.
   */
  committerFor(
    session: AgentTurnSession,
    transcript: () => Promise<readonly TranscriptMessage[]>,
  ): CommittableAgent {
    return {
      commitMemorySession: async () => {
        const memory = this.#sessionMemory(session);
        const { sessionId: _builtFor, ...context } = memory.context ?? {};
        const agent = new Agent({
          sessionId: session.sessionId,
          providers: memory.providers,
          initContext: context,
          ...(memory.dispose ? { onShutdown: memory.dispose } : {}),
          platform: this.#props.platform ?? "gateway",
        });
        try {
          // A provider that cannot start would silently miss the session's end: fail, so it is retried.
          const failed = (await agent.initialize()).filter((result) => !result.ok);
          if (failed.length > 0) {
            throw new MemoryCommitFailedError(
              session.sessionId,
              failed.map((result) => (result.ok ? undefined : result.error)),
            );
          }
          await agent.commitMemorySession(toChatHistory(await transcript()));
        } finally {
          // Agent.shutdown runs the host's release of the session's child container after the providers.
          await agent.shutdown({ deadlineMs: 5_000 }).catch(() => undefined);
        }
      },
    };
  }

  #sessionMemory(session: AgentTurnSession): AgentSessionMemory {
    const built = this.#props.providers(session);
    return Array.isArray(built) ? { providers: built } : built;
  }

  #creator(session: AgentTurnSession): () => Agent {
    return () => {
      const memory = this.#sessionMemory(session);
      const { sessionId: _builtFor, ...context } = memory.context ?? {};
      const agent: Agent = new Agent({
        sessionId: session.sessionId,
        providers: memory.providers,
        initContext: context,
        ...(memory.dispose ? { onShutdown: memory.dispose } : {}),
        platform: this.#props.platform ?? "gateway",
        ...(this.#props.model ? { model: this.#props.model } : {}),
        createSessionId: () => this.#rotation(agent).newSessionId,
        onSessionRotated: (rotation) =>
          this.#rotation(agent).persist({
            parentSessionId: rotation.parentSessionId,
            sessionId: rotation.sessionId,
            messages: rotation.messages,
          }),
      });
      return agent;
    };
  }

  #rotation(agent: Agent): CompressProps {
    const props = this.#rotations.get(agent);
    // Rotations happen only inside `compress` (the gateway sets no token budget on its agents).
    if (!props) throw new EngramError("CONFLICT", "Compression rotation outside AgentTurnRunner.compress");
    return props;
  }

  /** Points the agent at the session's override model, or back at the default one. */
  #applyModel(agent: Agent, override: ModelOverride | undefined): void {
    const key = override ? JSON.stringify(override) : "";
    if (key === (this.#modelKeys.get(agent) ?? "")) return;
    const model = override ? this.#props.modelFor?.(override) : undefined;
    const fallback = this.#props.model;
    if (model) agent.useModel(model);
    else if (fallback) agent.useModel(fallback);
    this.#modelKeys.set(agent, key);
  }
}

/** The transcript as the agent's chat history: user, assistant and system text (tool rows are the agent's own). */
function toChatHistory(history: readonly TranscriptMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of history) {
    if ((m.role === "user" || m.role === "assistant" || m.role === "system") && m.content !== null) {
      out.push({ role: m.role, content: m.content });
    }
  }
  return out;
}
