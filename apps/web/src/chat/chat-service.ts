import type { AgentEvent, MemoryRecall } from "@engram/agent";
import {
  ContentTooLargeError,
  EngramError,
  InvalidArgumentError,
  isEngramError,
  type NewTranscriptMessage,
  type SessionSource,
  type TranscriptMessage,
  type WebSessionStore,
} from "@engram/core";
import type { SessionRuntime } from "@engram/sessions";
import type { ChatStreams } from "./chat-streams.js";

/**
 * Who speaks in every web session: the web app has one owner (one login token, no accounts), so all
 * its sessions are one person's, in one memory scope.
 */
export const WEB_OWNER_SOURCE: SessionSource = {
  platform: "web",
  chatId: "owner",
  chatType: "dm",
  userId: "owner",
};

export interface ChatServiceProps {
  readonly sessions: WebSessionStore;
  /** The session runtime (an addressed host: no routing), restored before its first boundary. */
  readonly runtime: SessionRuntime;
  /** Settles once `runtime.restore()` did (its tables exist, a killed run's work is adoptable). */
  readonly restored: Promise<unknown>;
  readonly streams: ChatStreams;
  readonly maxMessageBytes: number;
  /** Names of the memory providers every session's agent gets (the memory panel lists them all). */
  readonly providerNames: () => string[];
  readonly onError?: (error: unknown) => void;
}

/** What the memory panel shows for a session. */
export interface SessionMemoryPanel {
  readonly providers: readonly { readonly name: string; readonly lastRecall: string | null }[];
  /** Completed turns of the active transcript since the last commit (undone ones are gone). */
  readonly uncommittedTurns: number;
  readonly lastCommit: { readonly at: number; readonly status: "committed" } | null;
}

/**
 * Web chat over the shared session runtime: the user message is saved before the agent runs (a crash
 * mid-turn leaves it), the reply streams as events, and what the turn produced is appended when it
 * completes; the runtime then records the turn for memory. Boundaries are the server's: entering a
 * session (opening, creating or speaking in it) commits the owner's other sessions first, and the
 * runtime's sweep commits sessions left idle.
 */
export class ChatService {
  readonly #props: ChatServiceProps;
  readonly #running = new Set<Promise<void>>();
  /** The last recall of each session's turns in this process, per provider (the panel's "last recall"). */
  readonly #recalls = new Map<string, readonly MemoryRecall[]>();

  constructor(props: ChatServiceProps) {
    this.#props = props;
  }

  /** The owner entered `sessionId`: every other web session with uncommitted memory is committed now. */
  async enter(sessionId: string): Promise<void> {
    await this.#props.restored;
    await this.#props.runtime.enter(sessionId);
  }

  async start(sessionId: string, message: unknown): Promise<{ streamId: string }> {
    if (typeof message !== "string" || message.trim() === "") {
      throw new InvalidArgumentError("message", "must be a non-empty string");
    }
    const size = Buffer.byteLength(message);
    if (size > this.#props.maxMessageBytes) {
      throw new ContentTooLargeError("message", size, this.#props.maxMessageBytes);
    }
    const { streams, sessions } = this.#props;
    const { streamId, signal } = streams.open(sessionId);
    let history: readonly TranscriptMessage[];
    try {
      await this.#props.restored;
      const session = await sessions.get(sessionId);
      if (!session) throw new EngramError("SESSION_NOT_FOUND", `No web session ${sessionId}`);
      history = session.messages;
      await sessions.appendMessages(sessionId, [{ role: "user", content: message }], {
        expectedCount: session.messages.length,
      });
    } catch (error) {
      streams.emit(streamId, { event: "error", data: errorData(error) });
      throw error;
    }
    const run = this.#run(sessionId, streamId, message, history, signal);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return { streamId };
  }

  /** Resolves once every running turn has ended (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  async memoryPanel(sessionId: string): Promise<SessionMemoryPanel> {
    await this.#props.restored;
    const status = await this.#props.runtime.memoryStatus(sessionId);
    let uncommittedTurns = 0;
    if (status.dirty) {
      // Counted on the active transcript, so an undone or retried turn no longer counts.
      const since = status.lastCommit?.at ?? Number.NEGATIVE_INFINITY;
      const session = await this.#props.sessions.get(sessionId);
      uncommittedTurns = (session?.messages ?? []).filter(
        (m) => m.role === "assistant" && !m.toolCalls && m.createdAt > since,
      ).length;
    }
    const byProvider = new Map<string, string>();
    for (const recall of this.#recalls.get(sessionId) ?? []) byProvider.set(recall.provider, recall.text);
    return {
      providers: this.#props
        .providerNames()
        .map((name) => ({ name, lastRecall: byProvider.get(name) ?? null })),
      uncommittedTurns,
      lastCommit: status.lastCommit ? { at: status.lastCommit.at, status: "committed" } : null,
    };
  }

  async #run(
    sessionId: string,
    streamId: string,
    message: string,
    history: readonly TranscriptMessage[],
    signal: AbortSignal,
  ): Promise<void> {
    const { runtime, streams, sessions } = this.#props;
    const onEvent = (event: AgentEvent) => {
      switch (event.type) {
        case "text":
          streams.emit(streamId, { event: "token", data: { text: event.delta } });
          break;
        case "tool_call":
          streams.emit(streamId, {
            event: "tool",
            data: { id: event.call.id, name: event.call.name, args: event.call.arguments },
          });
          break;
        case "tool_result":
          streams.emit(streamId, {
            event: "tool",
            data: { id: event.callId, name: event.name, result: event.result },
          });
          break;
        case "memory_recall":
          this.#recalls.set(sessionId, event.recalls);
          streams.emit(streamId, {
            event: "memory",
            data: { recalls: event.recalls.map((r) => ({ provider: r.provider, text: r.text })) },
          });
          break;
        default:
      }
    };
    try {
      let saved: Awaited<ReturnType<typeof sessions.appendMessages>> | undefined;
      const output = await runtime.runSessionTurn({
        sessionId,
        source: WEB_OWNER_SOURCE,
        text: message,
        history,
        signal,
        onEvent,
        save: async (done) => {
          // The user message is already saved; append what the agent produced after it.
          const produced: NewTranscriptMessage[] = (done.messages ?? []).slice(1).map((m) => ({
            role: m.role,
            content: m.content,
            ...(m.role === "assistant" && m.toolCalls ? { toolCalls: m.toolCalls } : {}),
            ...(m.role === "tool" && m.toolCallId ? { toolCallId: m.toolCallId } : {}),
            ...(m.role === "tool" && m.name ? { toolName: m.name } : {}),
          }));
          saved = await sessions.appendMessages(sessionId, produced);
        },
      });
      if (output.recalls) this.#recalls.set(sessionId, output.recalls);
      if (!output.completed) throw new EngramError("CONFLICT", "The turn was cancelled");
      streams.emit(streamId, {
        event: "done",
        data: { messageId: saved?.appended.at(-1)?.id ?? null, reply: output.reply },
      });
    } catch (error) {
      if (!isEngramError(error)) this.#props.onError?.(error);
      streams.emit(streamId, { event: "error", data: errorData(error) });
    }
  }
}

function errorData(error: unknown): Record<string, unknown> {
  if (isEngramError(error)) {
    // Only the model server's status goes out with the code: enough to say what to set, nothing internal.
    const status = error.details?.status;
    return {
      code: error.code,
      message: error.message,
      ...(typeof status === "number" ? { details: { status } } : {}),
    };
  }
  return { code: "INTERNAL", message: "The turn failed" };
}
