import type { AgentEvent } from "@engram/agent";
import {
  type ChatMessage,
  ContentTooLargeError,
  EngramError,
  InvalidArgumentError,
  isEngramError,
  type NewTranscriptMessage,
  type WebSessionStore,
} from "@engram/core";
import type { WebAgentPool } from "../agents/web-agent-pool.js";
import type { ChatStreams } from "./chat-streams.js";

export interface ChatServiceProps {
  readonly sessions: WebSessionStore;
  readonly agents: WebAgentPool;
  readonly streams: ChatStreams;
  readonly maxMessageBytes: number;
  /** Called after a turn's messages are saved (the web session list changed). */
  readonly onSaved?: (sessionId: string) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * One chat turn over HTTP: the user message is saved before the agent runs (a crash mid-turn leaves
 * it, never a wiped transcript), the reply streams as events, and the produced messages are appended
 * when the turn completes; only then does the turn count for memory.
 */
export class ChatService {
  readonly #props: ChatServiceProps;
  readonly #running = new Set<Promise<void>>();

  constructor(props: ChatServiceProps) {
    this.#props = props;
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
    let history: ChatMessage[];
    try {
      const session = await sessions.get(sessionId);
      if (!session) throw new EngramError("SESSION_NOT_FOUND", `No web session ${sessionId}`);
      history = toChatHistory(session.messages);
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

  async #run(
    sessionId: string,
    streamId: string,
    message: string,
    history: ChatMessage[],
    signal: AbortSignal,
  ): Promise<void> {
    const { agents, streams, sessions } = this.#props;
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
      const result = await agents.runTurn(sessionId, message, history, { signal, onEvent }, async (done) => {
        // The user message is already saved; append what the agent produced after it.
        const produced: NewTranscriptMessage[] = done.messages.slice(1).map((m) => ({
          role: m.role,
          content: m.content,
          ...(m.role === "assistant" && m.toolCalls ? { toolCalls: m.toolCalls } : {}),
          ...(m.role === "tool" && m.toolCallId ? { toolCallId: m.toolCallId } : {}),
          ...(m.role === "tool" && m.name ? { toolName: m.name } : {}),
        }));
        saved = await sessions.appendMessages(sessionId, produced);
      });
      if (!result.completed) {
        throw new EngramError(
          "CONFLICT",
          result.stopReason === "aborted"
            ? "The turn was cancelled"
            : `The turn stopped: ${result.stopReason}`,
          { details: { stopReason: result.stopReason } },
        );
      }
      this.#props.onSaved?.(sessionId);
      streams.emit(streamId, {
        event: "done",
        data: { messageId: saved?.appended.at(-1)?.id ?? null, reply: result.reply },
      });
    } catch (error) {
      if (!isEngramError(error)) this.#props.onError?.(error);
      streams.emit(streamId, { event: "error", data: errorData(error) });
    }
  }
}

function errorData(error: unknown): Record<string, unknown> {
  if (isEngramError(error)) return { code: error.code, message: error.message };
  return { code: "INTERNAL", message: "The turn failed" };
}

/** The saved transcript as chat history: user and assistant text. */
export function toChatHistory(messages: readonly { role: string; content: string | null }[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if ((m.role === "user" || m.role === "assistant") && m.content !== null) {
      out.push({ role: m.role, content: m.content });
    }
  }
  return out;
}
