import type { ChatModel } from "@engram/agent";
import { Agent } from "@engram/agent";
import {
  type ChatMessage,
  type Clock,
  type CommittableAgent,
  EngramError,
  type MemoryCommitCoordinator,
  type MemoryProvider,
  type ModelOverride,
  type SessionSource,
  systemClock,
  type TranscriptMessage,
} from "@engram/core";
import type { CompressProps, SessionSwitchProps, TurnInput, TurnOutput, TurnRunner } from "./turn-runner.js";

/** Default cap on live agents; the least recently used idle one is dropped beyond it. */
export const DEFAULT_MAX_AGENTS = 128;
/** Default idle time after which an agent is dropped by {@link AgentTurnRunner.sweepIdle}. */
export const DEFAULT_AGENT_IDLE_TTL_MS = 60 * 60 * 1000;

/** A turn whose model call failed: nothing of it is saved or counted; the user's message stays. */
export class TurnFailedError extends EngramError {
  constructor(sessionId: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("MODEL_FAILED", `The turn of session ${JSON.stringify(sessionId)} failed: ${why}`, {
      cause,
      details: { sessionId },
    });
    this.name = "TurnFailedError";
  }
}

/** The session an agent's providers are built for. */
export interface AgentTurnSession {
  readonly sessionId: string;
  /**
   * Where the session's messages come from; it decides the memory scope. `undefined` only for a
   * stand-in: the agent `agentFor` makes for a session that ran no turn in this process (never
   * initialised, no work, so it commits nothing), or one `compress` needs for such a session (it
   * commits nothing either: the caller committed). Whatever providers or scope a stand-in gets is
   * harmless, and the session's first turn replaces it with an agent built with the source.
   */
  readonly source: SessionSource | undefined;
}

export interface AgentTurnRunnerProps {
  readonly coordinator: MemoryCommitCoordinator;
  /** Fresh providers for one session's agent (they may share stores, e.g. one per memory scope). */
  readonly providers: (session: AgentTurnSession) => MemoryProvider[];
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

interface CachedAgent {
  readonly agent: Agent;
  /** Undefined for a stand-in (see {@link AgentTurnSession.source}). */
  readonly source: SessionSource | undefined;
  lastUsedAt: number;
  /** The override the agent's model was built for (`""`: the default model). */
  modelKey: string;
}

/** What one idle sweep did. */
export interface IdleSweepReport {
  /** Agents dropped (their work committed first, or there was none). */
  readonly evicted: readonly string[];
  /** Idle, but the commit failed: kept, and retried at the next sweep or boundary. */
  readonly failed: readonly string[];
}

/**
 * Runs turns with `@engram/agent`: one {@link Agent} per session id in an LRU cache with an idle TTL.
 * Every agent is registered with the coordinator, so boundary commits reach the agent that ran the
 * turns. An agent is never dropped mid-turn, and one with uncommitted work is committed through the
 * coordinator first (should that fail, the coordinator keeps it for a retry).
 */
export class AgentTurnRunner implements TurnRunner {
  readonly #props: AgentTurnRunnerProps;
  readonly #maxAgents: number;
  readonly #clock: Clock;
  /** Insertion order is recency order: a hit is moved to the end. */
  readonly #agents = new Map<string, CachedAgent>();
  readonly #busy = new Set<string>();
  /** The rotation a running `compress` call persists, per agent. */
  readonly #rotations = new Map<Agent, CompressProps>();
  /**
   * The source of recent sessions (from their turns; a switch or rotation passes it on to the session
   * that continues the key), so a switch can build the next session's agent before its first turn.
   * Bounded: oldest first out.
   */
  readonly #sources = new Map<string, SessionSource>();
  /** Switches to sessions whose source is unknown, told to their agent once its first turn builds it. */
  readonly #pendingSwitches = new Map<string, SessionSwitchProps>();

  constructor(props: AgentTurnRunnerProps) {
    this.#props = props;
    this.#maxAgents = Math.max(1, Math.floor(props.maxAgents ?? DEFAULT_MAX_AGENTS));
    this.#clock = props.clock ?? systemClock;
  }

  get cachedAgents(): number {
    return this.#agents.size;
  }

  async runTurn(input: TurnInput): Promise<TurnOutput> {
    this.#busy.add(input.sessionId);
    try {
      this.#rememberSource(input.sessionId, input.source);
      const cached = await this.#cached(input.sessionId, input.source);
      this.#applyModel(cached, input.modelOverride);
      const result = await cached.agent.runTurn(input.text, toChatHistory(input.history), {
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.systemNotes ? { systemNotes: input.systemNotes } : {}),
      });
      // Queued syncs land before the turn counts as completed (and may be committed).
      await cached.agent.memory.flushPending();
      cached.lastUsedAt = this.#clock.now();
      if (result.completed) return { reply: result.reply, completed: true };
      if (result.stopReason === "aborted") return { reply: "", completed: false };
      throw new TurnFailedError(input.sessionId, result.error);
    } finally {
      this.#busy.delete(input.sessionId);
    }
  }

  agentFor(sessionId: string): CommittableAgent {
    const cached = this.#agents.get(sessionId);
    if (cached) return cached.agent;
    // Only reached for a session that ran no turn here: an uninitialised agent commits nothing, so the
    // stand-in's memory scope does not matter (see AgentTurnSession.source).
    const fresh = this.#entry(this.#create(sessionId, undefined), undefined);
    this.#agents.set(sessionId, fresh);
    this.#props.coordinator.registerAgent(sessionId, fresh.agent);
    return fresh.agent;
  }

  async onSessionSwitch(newSessionId: string, props: SessionSwitchProps): Promise<void> {
    // The new session continues the parent's key, so its messages come from where the parent's did.
    const parentSource =
      props.parentSessionId === null ? undefined : this.#sources.get(props.parentSessionId);
    if (parentSource && !this.#sources.has(newSessionId)) this.#rememberSource(newSessionId, parentSource);
    const source = this.#sources.get(newSessionId);
    const cached = this.#agents.get(newSessionId);
    if (!source && !cached?.source) {
      // Nothing says whose memory the session uses yet (its parent ran no turn in this process):
      // build its agent at its first turn, which carries the source, and tell the providers then.
      this.#pendingSwitches.set(newSessionId, props);
      return;
    }
    const { agent } = await this.#cached(newSessionId, source ?? cached?.source);
    await switchAgent(agent, newSessionId, props);
  }

  /**
   * Compresses through the session's agent (onPreCompress, summary, onSessionSwitch "compression");
   * the caller committed the parent's memory through the coordinator, so the agent does not commit
   * again. On success the agent serves the child session id.
   */
  async compress(props: CompressProps): Promise<boolean> {
    this.#busy.add(props.sessionId);
    try {
      // Without a known source this is a stand-in: it commits nothing here (the caller committed).
      const cached = await this.#cached(props.sessionId, this.#sources.get(props.sessionId));
      this.#rotations.set(cached.agent, props);
      const rotation = await cached.agent
        .compress(toChatHistory(props.history), undefined, { commit: false })
        .finally(() => this.#rotations.delete(cached.agent));
      if (!rotation) return false;
      const { coordinator } = this.#props;
      this.#agents.delete(props.sessionId);
      coordinator.unregisterAgent(props.sessionId);
      this.#agents.set(rotation.sessionId, cached);
      if (cached.source) this.#rememberSource(rotation.sessionId, cached.source);
      coordinator.registerAgent(rotation.sessionId, cached.agent);
      return true;
    } finally {
      this.#busy.delete(props.sessionId);
    }
  }

  evict(sessionId: string): void {
    this.#pendingSwitches.delete(sessionId);
    const cached = this.#agents.get(sessionId);
    if (!cached || this.#busy.has(sessionId)) return;
    this.#agents.delete(sessionId);
    void cached.agent.memory.shutdownAll({ deadlineMs: 5_000 }).catch(() => undefined);
  }

  /**
   * Drops agents idle for longer than the TTL (never one mid-turn), committing their uncommitted work
   * through the coordinator first. An agent whose commit fails stays cached for the next attempt.
   */
  async sweepIdle(): Promise<IdleSweepReport> {
    const ttl = this.#props.idleTtlMs ?? DEFAULT_AGENT_IDLE_TTL_MS;
    const cutoff = this.#clock.now() - ttl;
    const evicted: string[] = [];
    const failed: string[] = [];
    for (const [sessionId, cached] of [...this.#agents]) {
      if (cached.lastUsedAt > cutoff || this.#busy.has(sessionId)) continue;
      if (await this.#drop(sessionId, cached)) evicted.push(sessionId);
      else failed.push(sessionId);
    }
    return { evicted, failed };
  }

  /** Shuts every cached agent's providers down (after the coordinator drained). */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    this.#pendingSwitches.clear();
    await Promise.allSettled(agents.map(({ agent }) => agent.memory.shutdownAll({ deadlineMs: 5_000 })));
  }

  /**
   * The session's cached agent, or a new initialised one. With a `source`, a cached stand-in is
   * replaced, so a session's turns always run with the memory of its source; without one, whatever is
   * cached serves, else a new stand-in.
   */
  async #cached(sessionId: string, source: SessionSource | undefined): Promise<CachedAgent> {
    const cached = this.#agents.get(sessionId);
    if (cached && (cached.source || !source)) {
      this.#agents.delete(sessionId);
      this.#agents.set(sessionId, cached);
      cached.lastUsedAt = this.#clock.now();
      return cached;
    }
    if (cached) {
      // A stand-in never ran a turn: nothing to commit; the real agent replaces it with the coordinator.
      this.#agents.delete(sessionId);
      void cached.agent.memory.shutdownAll({ deadlineMs: 5_000 }).catch(() => undefined);
    }
    await this.#makeRoom();
    const agent = this.#create(sessionId, source);
    await agent.initialize();
    const entry = this.#entry(agent, source);
    this.#agents.set(sessionId, entry);
    this.#props.coordinator.registerAgent(sessionId, agent);
    const pending = source ? this.#pendingSwitches.get(sessionId) : undefined;
    if (pending) {
      this.#pendingSwitches.delete(sessionId);
      await switchAgent(agent, sessionId, pending);
    }
    return entry;
  }

  #rememberSource(sessionId: string, source: SessionSource): void {
    this.#sources.delete(sessionId);
    this.#sources.set(sessionId, source);
    // Sessions of live agents plus as many recently left ones (a switch asks for the parent's).
    while (this.#sources.size > 2 * this.#maxAgents) {
      const oldest = this.#sources.keys().next().value;
      if (oldest === undefined) break;
      this.#sources.delete(oldest);
    }
  }

  #entry(agent: Agent, source: SessionSource | undefined): CachedAgent {
    return { agent, source, lastUsedAt: this.#clock.now(), modelKey: "" };
  }

  #create(sessionId: string, source: SessionSource | undefined): Agent {
    const agent: Agent = new Agent({
      sessionId,
      providers: this.#props.providers({ sessionId, source }),
      platform: this.#props.platform ?? "gateway",
      ...(this.#props.model ? { model: this.#props.model } : {}),
      createSessionId: () => this.#rotation(agent).newSessionId,
      onSessionRotated: async (rotation) => {
        const props = this.#rotation(agent);
        await props.persist({
          parentSessionId: rotation.parentSessionId,
          sessionId: rotation.sessionId,
          messages: rotation.messages,
        });
      },
    });
    return agent;
  }

  #rotation(agent: Agent): CompressProps {
    const props = this.#rotations.get(agent);
    // Rotations happen only inside `compress` (the gateway sets no token budget on its agents).
    if (!props) throw new EngramError("CONFLICT", "Compression rotation outside AgentTurnRunner.compress");
    return props;
  }

  /** Points the agent at the session's override model, or back at the default one. */
  #applyModel(cached: CachedAgent, override: ModelOverride | undefined): void {
    const key = override ? JSON.stringify(override) : "";
    if (key === cached.modelKey) return;
    const model = override ? this.#props.modelFor?.(override) : undefined;
    const fallback = this.#props.model;
    if (model) cached.agent.useModel(model);
    else if (fallback) cached.agent.useModel(fallback);
    cached.modelKey = key;
  }

  /** Drops least recently used idle agents beyond the cap, committing their work first. */
  async #makeRoom(): Promise<void> {
    while (this.#agents.size >= this.#maxAgents) {
      const victim = [...this.#agents].find(([id]) => !this.#busy.has(id));
      if (victim === undefined) return;
      await this.#drop(victim[0], victim[1], { keepDirty: false });
    }
  }

  /**
   * Commits the agent's uncommitted work through the coordinator, then drops it. With `keepDirty`
   * (idle sweep) an agent whose commit failed stays cached; otherwise (room for a new agent) it leaves
   * the cache but stays registered with the coordinator, which keeps it for the retry.
   */
  async #drop(
    sessionId: string,
    cached: CachedAgent,
    props: { readonly keepDirty?: boolean } = { keepDirty: true },
  ): Promise<boolean> {
    const { coordinator } = this.#props;
    let dirty = false;
    try {
      if (await coordinator.hasUncommittedWork(sessionId)) {
        await coordinator.commitSessionMemory(sessionId, { timeoutMs: 30_000 });
        dirty = await coordinator.hasUncommittedWork(sessionId);
      }
    } catch {
      dirty = true;
    }
    if (dirty && props.keepDirty) return false;
    if (this.#agents.get(sessionId) === cached) this.#agents.delete(sessionId);
    if (dirty) return false;
    coordinator.unregisterAgent(sessionId);
    void cached.agent.memory.shutdownAll({ deadlineMs: 5_000 }).catch(() => undefined);
    return true;
  }
}

function switchAgent(agent: Agent, sessionId: string, props: SessionSwitchProps): Promise<unknown> {
  return agent.switchSession(sessionId, {
    ...(props.parentSessionId === null ? {} : { parentSessionId: props.parentSessionId }),
    reset: props.reset,
    rewound: props.rewound ?? false,
    reason: props.reason,
  });
}

/** The transcript as the agent's chat history: user and assistant text (tool rows are the agent's own). */
function toChatHistory(history: readonly TranscriptMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of history) {
    if ((m.role === "user" || m.role === "assistant" || m.role === "system") && m.content !== null) {
      out.push({ role: m.role, content: m.content });
    }
  }
  return out;
}
