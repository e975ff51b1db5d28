import type { CommittableAgent } from "@engram/core";
import type { TurnInput, TurnOutput, TurnRunner } from "./turn-runner.js";

/**
 * A deterministic stand-in runner: replies `echo: <text>` and counts turns per session. It runs no
 * model and has no memory to commit; it exists so the gateway is runnable and testable end to end
 * until `@engram/agent` is wired in.
 */
export class EchoTurnRunner implements TurnRunner {
  readonly #agents = new Map<string, EchoAgent>();

  async runTurn(input: TurnInput): Promise<TurnOutput> {
    const agent = this.#agent(input.sessionId);
    agent.turns++;
    return { reply: `echo: ${input.text}` };
  }

  agentFor(sessionId: string): CommittableAgent {
    return this.#agent(sessionId);
  }

  get cachedAgents(): number {
    return this.#agents.size;
  }

  /** Session switches reported to this runner, oldest first (tests). */
  readonly switches: Array<{ newSessionId: string; parentSessionId: string | null; reason: string }> = [];

  onSessionSwitch(
    newSessionId: string,
    props: { readonly parentSessionId: string | null; readonly reset: boolean; readonly reason: string },
  ): void {
    this.switches.push({ newSessionId, parentSessionId: props.parentSessionId, reason: props.reason });
  }

  evict(sessionId: string): void {
    this.#agents.delete(sessionId);
  }

  /** Memory commits the echo agents received (tests). */
  commitsOf(sessionId: string): number {
    return this.#agents.get(sessionId)?.commits ?? 0;
  }

  #agent(sessionId: string): EchoAgent {
    let agent = this.#agents.get(sessionId);
    if (!agent) {
      agent = new EchoAgent();
      this.#agents.set(sessionId, agent);
    }
    return agent;
  }
}

class EchoAgent implements CommittableAgent {
  turns = 0;
  commits = 0;
  commitMemorySession(): void {
    this.commits++;
  }
}
