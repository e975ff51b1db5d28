import {
  Agent,
  AgentCache,
  type ChatModel,
  type MemoryRecall,
  type RunTurnOptions,
  type TurnResult,
} from "@engram/agent";
import type { ChatMessage, MemoryCommitCoordinator, MemoryProvider, ProviderInitContext } from "@engram/core";

/** Default cap on live agents (seed 000: the web server keeps 25). */
export const DEFAULT_WEB_MAX_AGENTS = 25;

/**
 * One session's providers as a host builds them (`EngramHost.openSession`): the context they were
 * built with (given to their `initialize`) and the release of what was built for the session, run
 * once the agent's providers shut down.
 */
export interface WebSessionMemory {
  readonly providers: MemoryProvider[];
  readonly context?: Partial<ProviderInitContext>;
  readonly dispose?: () => void | Promise<void>;
}

export interface WebAgentPoolProps {
  readonly coordinator: MemoryCommitCoordinator;
  /**
   * Fresh providers for one session's agent (they may share one store per process): a list, or a
   * host's session memory with its context and disposal.
   */
  readonly providers: (sessionId: string) => MemoryProvider[] | WebSessionMemory;
  readonly model?: ChatModel;
  readonly maxAgents?: number;
}

/** What the memory panel shows for a session. */
export interface SessionMemoryState {
  readonly lastRecalls: readonly MemoryRecall[];
  readonly uncommittedTurns: number;
  readonly lastCommit: { readonly at: number; readonly status: "committed" | "failed" | "pending" } | null;
}

/**
 * The web server's agents: an {@link AgentCache} (one agent per web session, LRU, committed through the
 * coordinator before a drop, never dropped mid-turn) plus what the memory panel shows per session.
 * Memory is committed only at real boundaries (seed 000): a new session started from this one,
 * eviction of an agent with uncommitted work, and the shutdown drain.
 */
export class WebAgentPool {
  readonly #props: WebAgentPoolProps;
  readonly #cache: AgentCache;
  readonly #memory = new Map<string, SessionMemoryState>();
  #providerNames: string[] | undefined;

  constructor(props: WebAgentPoolProps) {
    this.#props = props;
    this.#cache = new AgentCache({
      coordinator: props.coordinator,
      maxAgents: Math.max(1, Math.floor(props.maxAgents ?? DEFAULT_WEB_MAX_AGENTS)),
      onCommitted: (sessionId, { clean }) => this.#recordCommit(sessionId, clean),
    });
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Names of the memory providers every agent gets (the memory panel lists them all). */
  providerNames(): string[] {
    if (!this.#providerNames) {
      // Built, never initialised (no I/O), then released.
      const probe = this.#memoryFor("probe");
      this.#providerNames = probe.providers.map((provider) => provider.name);
      void Promise.resolve(probe.dispose?.()).catch(() => undefined);
    }
    return this.#providerNames;
  }

  memoryState(sessionId: string): SessionMemoryState {
    return this.#memory.get(sessionId) ?? { lastRecalls: [], uncommittedTurns: 0, lastCommit: null };
  }

  /**
   * Runs one turn. A completed turn is handed to `save` (persist what it produced) and then recorded
   * with the coordinator, while the agent is still held: only a saved turn becomes committable, and
   * it is never committed per turn.
   */
  runTurn(
    sessionId: string,
    text: string,
    history: readonly ChatMessage[],
    options: RunTurnOptions,
    save: (result: TurnResult) => Promise<void>,
  ): Promise<TurnResult> {
    return this.#cache.use(
      sessionId,
      () => this.#create(sessionId),
      async (agent) => {
        const result = await agent.runTurn(text, history, options);
        this.#memory.set(sessionId, { ...this.memoryState(sessionId), lastRecalls: result.recalls });
        if (!result.completed) return result;
        await save(result);
        await agent.memory.flushPending();
        await this.#props.coordinator.markTurnCompleted(sessionId, { agent });
        const state = this.memoryState(sessionId);
        this.#memory.set(sessionId, { ...state, uncommittedTurns: state.uncommittedTurns + 1 });
        return result;
      },
    );
  }

  /** The boundary commit of a session left for good; resolves with whether it committed. */
  async commit(sessionId: string): Promise<boolean> {
    const state = this.memoryState(sessionId);
    this.#memory.set(sessionId, { ...state, lastCommit: { at: Date.now(), status: "pending" } });
    let committed = false;
    try {
      committed = await this.#props.coordinator.commitSessionMemory(sessionId, { timeoutMs: 30_000 });
    } finally {
      const dirty = await Promise.resolve(this.#props.coordinator.hasUncommittedWork(sessionId)).catch(
        () => true,
      );
      this.#recordCommit(sessionId, !dirty);
    }
    return committed;
  }

  /** Shuts every cached agent's providers down (after the coordinator drained). */
  close(): Promise<void> {
    return this.#cache.close();
  }

  #memoryFor(sessionId: string): WebSessionMemory {
    const built = this.#props.providers(sessionId);
    return Array.isArray(built) ? { providers: built } : built;
  }

  #create(sessionId: string): Agent {
    const memory = this.#memoryFor(sessionId);
    const { sessionId: _builtFor, ...context } = memory.context ?? {};
    return new Agent({
      sessionId,
      providers: memory.providers,
      initContext: context,
      ...(memory.dispose ? { onShutdown: memory.dispose } : {}),
      platform: "web",
      ...(this.#props.model ? { model: this.#props.model } : {}),
    });
  }

  #recordCommit(sessionId: string, clean: boolean): void {
    const after = this.memoryState(sessionId);
    this.#memory.set(sessionId, {
      ...after,
      uncommittedTurns: clean ? 0 : after.uncommittedTurns,
      lastCommit: { at: Date.now(), status: clean ? "committed" : "failed" },
    });
  }
}
