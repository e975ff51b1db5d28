import type { ToolCall } from "@engram/core";
import {
  abortError,
  type ChatCallOptions,
  type ChatCompletion,
  type ChatModel,
  type ChatRequest,
  type ChatStreamEvent,
} from "../model/chat-model.js";

/** One scripted answer: a reply, or an error thrown mid-stream after `text` was streamed. */
export type ScriptedAnswer = { text?: string; toolCalls?: ToolCall[] } | { fail: Error; text?: string };

/**
 * A real in-process ChatModel that answers from a script (the last answer repeats) and records every
 * request, for agent tests that need tool calls or failures the offline model never produces.
 */
export class ScriptedModel implements ChatModel {
  readonly id = "scripted";
  readonly requests: ChatRequest[] = [];
  readonly #answers: ScriptedAnswer[];

  constructor(...answers: ScriptedAnswer[]) {
    this.#answers = answers;
  }

  #next(request: ChatRequest): ScriptedAnswer {
    this.requests.push({ ...request, messages: structuredClone([...request.messages]) });
    return (this.#answers.length > 1 ? this.#answers.shift() : this.#answers[0]) ?? { text: "" };
  }

  async complete(request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatCompletion> {
    let completion: ChatCompletion | undefined;
    for await (const event of this.stream(request, options))
      if (event.type === "done") completion = event.completion;
    if (completion === undefined) throw new Error("no completion");
    return completion;
  }

  async *stream(request: ChatRequest, options: ChatCallOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const answer = this.#next(request);
    const text = answer.text ?? "";
    for (const piece of text.match(/.{1,3}/gs) ?? []) {
      if (options.signal?.aborted) throw abortError(options.signal);
      yield { type: "text", delta: piece };
      await Promise.resolve();
    }
    if ("fail" in answer) throw answer.fail;
    const toolCalls = answer.toolCalls ?? [];
    const usage = { promptTokens: 10, completionTokens: 5, totalTokens: 15 };
    yield {
      type: "done",
      completion: { text, toolCalls, usage, finishReason: toolCalls.length > 0 ? "tool_calls" : "stop" },
    };
  }
}
