import type { ChatMessage, ToolCall, ToolSchema } from "@engram/core";

/** What one model call is given. */
export interface ChatRequest {
  /** The whole conversation to send, system message first when there is one. */
  messages: readonly ChatMessage[];
  /** Tools the model may call; empty or absent means none. */
  tools?: readonly ToolSchema[];
  /** Sampling temperature, passed through when set. */
  temperature?: number;
  /** Upper bound on generated tokens, passed through when set. */
  maxTokens?: number;
}

/** Per-call options. */
export interface ChatCallOptions {
  /** Aborting rejects the call (or ends the stream) with an `AbortError`-named error. */
  signal?: AbortSignal;
}

/** Token counts of one call; zeros when the server reports none. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Why the model stopped. */
export type FinishReason = "stop" | "tool_calls" | "length" | "content_filter" | (string & {});

/** Result of a non-streamed call. */
export interface ChatCompletion {
  text: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  finishReason: FinishReason;
}

/**
 * One event of a streamed call. `tool_call` deltas carry the call's position (`index`): the id and name
 * arrive first, argument text arrives in pieces and concatenates in order. `done` is always last and
 * carries the assembled result, so consumers need not accumulate anything themselves.
 */
export type ChatStreamEvent =
  | { type: "text"; delta: string }
  | { type: "tool_call"; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: "usage"; usage: TokenUsage }
  | { type: "done"; completion: ChatCompletion };

/**
 * A chat model. Implementations must keep: `stream` yields `done` exactly once, last, unless it throws;
 * the `done` completion equals what `complete` would have returned for the same answer; an aborted
 * signal ends either call promptly with an error whose `name` is `"AbortError"`.
 */
export interface ChatModel {
  /** Human-readable id (`offline`, `gpt-4o-mini@https://...`), for logs and UIs. */
  readonly id: string;
  complete(request: ChatRequest, options?: ChatCallOptions): Promise<ChatCompletion>;
  stream(request: ChatRequest, options?: ChatCallOptions): AsyncIterable<ChatStreamEvent>;
}

export const ZERO_USAGE: Readonly<TokenUsage> = Object.freeze({
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
});

/** Adds two usage records. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

/** The error models throw when their signal aborts (matches the DOM `AbortError` name). */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  const error = new Error("The model call was aborted", { cause: reason });
  error.name = "AbortError";
  return error;
}

/** Whether `error` means the call was aborted (ours, the OpenAI SDK's, or fetch's). */
export function isAbortError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "AbortError" || error.constructor.name === "APIUserAbortError";
}
