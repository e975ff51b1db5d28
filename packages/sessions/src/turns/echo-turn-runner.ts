import type { CommittableAgent, TranscriptMessage } from "@engram/core";
import type { SessionSwitchProps, StoredSession, TurnInput, TurnOutput, TurnRunner } from "./turn-runner.js";

/**
 * A deterministic stand-in runner: replies `echo: <text>` and counts turns per session. It runs no
 * model and has no memory to commit; it exists so the gateway is runnable and testable end to end
 * until `@engram/agent` is wired in.
 */
export class EchoTurnRunner implements TurnRunner {
  readonly #agents = new Map<string, EchoAgent>();
  /**
   * Test seam: awaited before each turn answers, so a test can hold turns open (to race messages, or
   * to `/stop` one). An abort of the turn's signal while held ends the turn uncompleted.
   */
  hold: ((input: TurnInput) => Promise<void>) | undefined;
  /** The inputs of every turn, in the order they started (tests). */
  readonly inputs: TurnInput[] = [];

  async runTurn(input: TurnInput): Promise<TurnOutput> {
    this.inputs.push(input);
    if (this.hold) {
      const aborted = new Promise<"aborted">((resolve) => {
        if (input.signal?.aborted) resolve("aborted");
        input.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
      });
      if ((await Promise.race([this.hold(input), aborted])) === "aborted") {
        return { reply: "", completed: false };
      }
    }
    this.#agent(input.sessionId).turns++;
    const reply = `echo: ${input.text}`;
    await input.onCompleted({ reply, agent: this.agentFor(input.sessionId) });
    return { reply, completed: true };
  }

  /** The echo agent of a session (tests mark turns with it). */
  agentFor(sessionId: string): CommittableAgent {
    return this.#agent(sessionId);
  }

  get cachedAgents(): number {
    return this.#agents.size;
  }

  /** Session switches reported to this runner, oldest first (tests). */
  readonly switches: Array<{ newSessionId: string } & SessionSwitchProps> = [];

  onSessionSwitch(newSessionId: string, props: SessionSwitchProps): void {
    this.switches.push({ newSessionId, ...props });
  }

  evict(sessionId: string): void {
    this.#agents.delete(sessionId);
  }

  /** Sessions a committer was asked for, with the transcript length each commit read (tests). */
  readonly adopted: Array<{ sessionId: string; messages: number }> = [];

  /** Commits through the session's echo agent, counting them like its own (tests). */
  committerFor(
    session: StoredSession,
    transcript: () => Promise<readonly TranscriptMessage[]>,
  ): CommittableAgent {
    return {
      commitMemorySession: async () => {
        this.adopted.push({ sessionId: session.sessionId, messages: (await transcript()).length });
        this.#agent(session.sessionId).commits++;
      },
    };
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
