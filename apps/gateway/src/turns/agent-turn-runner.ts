import type { ChatModel } from "@engram/agent";
import { Agent } from "@engram/agent";
import type {
  ChatMessage,
  CommittableAgent,
  MemoryCommitCoordinator,
  MemoryProvider,
  TranscriptMessage,
} from "@engram/core";
import type { TurnInput, TurnOutput, TurnRunner } from "./turn-runner.js";

/** Default cap on live agents; the least recently used idle one is dropped beyond it. */
export const DEFAULT_MAX_AGENTS = 128;

export interface AgentTurnRunnerProps {
  readonly coordinator: MemoryCommitCoordinator;
  /** Fresh providers for one session's agent (they may share one store per process). */
  readonly providers: (sessionId: string) => MemoryProvider[];
  /** Default: the agent's own default (the offline model). */
  readonly model?: ChatModel;
  readonly maxAgents?: number;
  /** Platform reported to providers. Default "gateway". */
  readonly platform?: string;
}

/**
 * Runs turns with `@engram/agent`: one {@link Agent} per session id in an LRU cache. Every agent is
 * registered with the coordinator, so boundary commits reach the agent that ran the turns. An agent is
 * never dropped mid-turn, and one with uncommitted work is committed through the coordinator first
 * (should that fail, the coordinator keeps it for a retry).
 */
export class AgentTurnRunner implements TurnRunner {
  readonly #props: AgentTurnRunnerProps;
  readonly #maxAgents: number;
  /** Insertion order is recency order: a hit is moved to the end. */
  readonly #agents = new Map<string, Agent>();
  readonly #busy = new Set<string>();

  constructor(props: AgentTurnRunnerProps) {
    this.#props = props;
    this.#maxAgents = Math.max(1, Math.floor(props.maxAgents ?? DEFAULT_MAX_AGENTS));
  }

  get cachedAgents(): number {
    return this.#agents.size;
  }

  async runTurn(input: TurnInput): Promise<TurnOutput> {
    this.#busy.add(input.sessionId);
    try {
      const agent = await this.#agent(input.sessionId);
      const result = await agent.runTurn(input.text, toChatHistory(input.history));
      // Queued syncs land before the turn counts as completed (and may be committed).
      await agent.memory.flushPending();
      return { reply: result.reply };
    } finally {
      this.#busy.delete(input.sessionId);
    }
  }

  agentFor(sessionId: string): CommittableAgent {
    const agent = this.#agents.get(sessionId);
    if (agent) return agent;
    // Only reached for a session that ran no turn here: an uninitialised agent commits nothing.
    const fresh = this.#create(sessionId);
    this.#agents.set(sessionId, fresh);
    this.#props.coordinator.registerAgent(sessionId, fresh);
    return fresh;
  }

  /** Session switches reported to this runner, oldest first (tests, diagnostics). */
  readonly switches: Array<{
    newSessionId: string;
    parentSessionId: string | null;
    reset: boolean;
    reason: string;
  }> = [];

  async onSessionSwitch(
    newSessionId: string,
    props: { readonly parentSessionId: string | null; readonly reset: boolean; readonly reason: string },
  ): Promise<void> {
    this.switches.push({ newSessionId, ...props });
    const agent = await this.#agent(newSessionId);
    await agent.switchSession(newSessionId, {
      ...(props.parentSessionId === null ? {} : { parentSessionId: props.parentSessionId }),
      reset: props.reset,
      reason: props.reason,
    });
  }

  evict(sessionId: string): void {
    const agent = this.#agents.get(sessionId);
    if (!agent || this.#busy.has(sessionId)) return;
    this.#agents.delete(sessionId);
    void agent.memory.shutdownAll({ deadlineMs: 5_000 }).catch(() => undefined);
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
    const agent = this.#create(sessionId);
    await agent.initialize();
    this.#agents.set(sessionId, agent);
    this.#props.coordinator.registerAgent(sessionId, agent);
    return agent;
  }

  #create(sessionId: string): Agent {
    return new Agent({
      sessionId,
      providers: this.#props.providers(sessionId),
      platform: this.#props.platform ?? "gateway",
      ...(this.#props.model ? { model: this.#props.model } : {}),
    });
  }

  /** Drops least recently used idle agents beyond the cap, committing their work first. */
  async #makeRoom(): Promise<void> {
    const { coordinator } = this.#props;
    while (this.#agents.size >= this.#maxAgents) {
      const victim = [...this.#agents.keys()].find((id) => !this.#busy.has(id));
      if (victim === undefined) return;
      const agent = this.#agents.get(victim);
      this.#agents.delete(victim);
      let dirty = false;
      try {
        if (await coordinator.hasUncommittedWork(victim)) {
          await coordinator.commitSessionMemory(victim, { timeoutMs: 30_000 });
          dirty = await coordinator.hasUncommittedWork(victim);
        }
      } catch {
        dirty = true;
      }
      coordinator.unregisterAgent(victim);
      // A dirty agent stays referenced by the coordinator for the retry: keep its providers up.
      if (!dirty) void agent?.memory.shutdownAll({ deadlineMs: 5_000 }).catch(() => undefined);
    }
  }
}

/** The transcript as the agent's chat history: user and assistant text (tool rows are the agent's own). */
function toChatHistory(history: readonly TranscriptMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of history) {
    if ((m.role === "user" || m.role === "assistant") && m.content !== null) {
      out.push({ role: m.role, content: m.content });
    }
  }
  return out;
}
