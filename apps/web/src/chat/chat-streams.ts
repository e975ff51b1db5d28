import { randomUUID } from "node:crypto";
import { EngramError } from "@engram/core";

/** One server-sent event of a chat stream. */
export interface ChatStreamEvent {
  readonly event: "token" | "tool" | "memory" | "done" | "error";
  readonly data: Record<string, unknown>;
}

type Listener = (event: ChatStreamEvent) => void;

interface Stream {
  readonly id: string;
  readonly sessionId: string;
  readonly events: ChatStreamEvent[];
  readonly listeners: Set<Listener>;
  readonly abort: AbortController;
  finished: boolean;
}

/** How long a finished stream stays replayable for a late subscriber. */
const FINISHED_RETENTION_MS = 60_000;

/**
 * The chat streams of one process: at most one active stream per session (a second start is
 * `STREAM_ACTIVE`), every event buffered so a subscriber that connects late gets the whole reply.
 */
export class ChatStreams {
  readonly #streams = new Map<string, Stream>();
  readonly #activeBySession = new Map<string, string>();

  /** Claims the session's stream slot synchronously, so two racing starts cannot both get it. */
  open(sessionId: string): { readonly streamId: string; readonly signal: AbortSignal } {
    if (this.#activeBySession.has(sessionId)) {
      throw new EngramError("STREAM_ACTIVE", `Session ${sessionId} already has an active stream`, {
        details: { sessionId },
      });
    }
    const stream: Stream = {
      id: randomUUID(),
      sessionId,
      events: [],
      listeners: new Set(),
      abort: new AbortController(),
      finished: false,
    };
    this.#streams.set(stream.id, stream);
    this.#activeBySession.set(sessionId, stream.id);
    return { streamId: stream.id, signal: stream.abort.signal };
  }

  isActive(sessionId: string): boolean {
    return this.#activeBySession.has(sessionId);
  }

  emit(streamId: string, event: ChatStreamEvent): void {
    const stream = this.#streams.get(streamId);
    if (!stream || stream.finished) return;
    stream.events.push(event);
    for (const listener of stream.listeners) listener(event);
    if (event.event === "done" || event.event === "error") this.#finish(stream);
  }

  /** Replays what happened so far, then follows live; returns an unsubscribe function. */
  subscribe(streamId: string, listener: Listener): () => void {
    const stream = this.#streams.get(streamId);
    if (!stream) throw new EngramError("NOT_FOUND", `No stream ${streamId}`);
    for (const event of stream.events) listener(event);
    if (stream.finished) return () => undefined;
    stream.listeners.add(listener);
    return () => stream.listeners.delete(listener);
  }

  cancel(streamId: string): void {
    const stream = this.#streams.get(streamId);
    if (!stream) throw new EngramError("NOT_FOUND", `No stream ${streamId}`);
    stream.abort.abort(new EngramError("CONFLICT", "cancelled by the user"));
  }

  /** Aborts every running turn (shutdown). */
  cancelAll(): void {
    for (const stream of this.#streams.values()) if (!stream.finished) stream.abort.abort();
  }

  #finish(stream: Stream): void {
    stream.finished = true;
    stream.listeners.clear();
    if (this.#activeBySession.get(stream.sessionId) === stream.id)
      this.#activeBySession.delete(stream.sessionId);
    setTimeout(() => this.#streams.delete(stream.id), FINISHED_RETENTION_MS).unref();
  }
}
