import {
  Agent,
  type ChatModel,
  type MemoryRecall,
  type RunTurnOptions,
  type TurnResult,
} from "@engram/agent";
import type { ChatMessage, MemoryCommitCoordinator, MemoryProvider } from "@engram/core";

/** Default cap on live agents (seed 000: the web server keeps 25). */
export const DEFAULT_WEB_MAX_AGENTS = 25;

export interface WebAgentPoolProps {
  readonly coordinator: MemoryCommitCoordinator;
  /** Fresh providers for one session's agent (they may share one store per process). */
  readonly providers: (sessionId: string) => MemoryProvider[];
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
 * One {@link Agent} per web session in an LRU cache, registered with the commit coordinator. Memory is
 * committed only at real boundaries (seed 000): a new session started from this one, eviction of an
 * agent with uncommitted work, and the shutdown drain. An agent is never evicted mid-turn.
 */
export class WebAgentPool {
  readonly #props: WebAgentPoolProps;
  readonly #maxAgents: number;
  /** Insertion order is recency order. */
  readonly #agents = new Map<string, Agent>();
  readonly #busy = new Set<string>();
  readonly #memory = new Map<string, SessionMemoryState>();
  #providerNames: string[] | undefined;

  constructor(props: WebAgentPoolProps) {
    this.#props = props;
    this.#maxAgents = Math.max(1, Math.floor(props.maxAgents ?? DEFAULT_WEB_MAX_AGENTS));
  }

  get size(): number {
    return this.#agents.size;
  }

  /** Names of the memory providers every agent gets (the memory panel lists them all). */
  providerNames(): string[] {
    this.#providerNames ??= this.#props.providers("probe").map((provider) => provider.name);
    return this.#providerNames;
  }

  memoryState(sessionId: string): SessionMemoryState {
    return this.#memory.get(sessionId) ?? { lastRecalls: [], uncommittedTurns: 0, lastCommit: null };
  }

  /** Runs one turn; a completed turn is recorded with the coordinator once its memory sync landed. */
  async runTurn(
    sessionId: string,
    text: string,
    history: readonly ChatMessage[],
    options: RunTurnOptions,
  ): Promise<TurnResult> {
    this.#busy.add(sessionId);
    try {
      const agent = await this.#agent(sessionId);
      const result = await agent.runTurn(text, history, options);
      const state = this.memoryState(sessionId);
      this.#memory.set(sessionId, { ...state, lastRecalls: result.recalls });
      return result;
    } finally {
      this.#busy.delete(sessionId);
    }
  }

  /** After the turn's messages are saved: the turn becomes committable (never committed per turn). */
  async markTurnSaved(sessionId: string): Promise<void> {
    const agent = this.#agents.get(sessionId);
    if (!agent) return;
    await agent.memory.flushPending();
    await this.#props.coordinator.markTurnCompleted(sessionId, { agent });
    const state = this.memoryState(sessionId);
    this.#memory.set(sessionId, { ...state, uncommittedTurns: state.uncommittedTurns + 1 });
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
      const after = this.memoryState(sessionId);
      this.#memory.set(sessionId, {
        ...after,
        uncommittedTurns: dirty ? after.uncommittedTurns : 0,
        lastCommit: { at: Date.now(), status: dirty ? "failed" : "committed" },
      });
    }
    return committed;
  }

  /** Shuts every cached agent's providers down (after the coordinator drained). */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.allSettled(agents.map((agent) => agent.memory.shutdownAll({ deadlineMs: 5_000 })));
  }

  async #agent(sessionId: string): Promise<Agent> {
    const cached = this.#agents.get(sessionId);
    if (cached) {
      this.#agents.delete(sessionId);
      this.#agents.set(sessionId, cached);
      return cached;
    }
    await this.#makeRoom();
    const agent = new Agent({
      sessionId,
      providers: this.#props.providers(sessionId),
      platform: "web",
      ...(this.#props.model ? { model: this.#props.model } : {}),
    });
    await agent.initialize();
    this.#agents.set(sessionId, agent);
    this.#props.coordinator.registerAgent(sessionId, agent);
    return agent;
  }

  /** Drops least recently used idle agents beyond the cap, committing their work first (a boundary). */
  async #makeRoom(): Promise<void> {
    while (this.#agents.size >= this.#maxAgents) {
      const victim = [...this.#agents.keys()].find((id) => !this.#busy.has(id));
      if (victim === undefined) return;
      const agent = this.#agents.get(victim);
      let dirty = false;
      try {
        if (await this.#props.coordinator.hasUncommittedWork(victim)) {
          await this.commit(victim);
          dirty = await this.#props.coordinator.hasUncommittedWork(victim);
        }
      } catch {
        dirty = true;
      }
      this.#agents.delete(victim);
      this.#props.coordinator.unregisterAgent(victim);
      // A dirty agent stays referenced by the coordinator for the retry: keep its providers up.
      if (!dirty) void agent?.memory.shutdownAll({ deadlineMs: 5_000 }).catch(() => undefined);
    }
  }
}
