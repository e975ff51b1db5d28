import type { ChatMessage } from "@engram/core";
import { EngramError } from "@engram/core";
import OpenAI from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import {
  abortError,
  type ChatCallOptions,
  type ChatCompletion,
  type ChatModel,
  type ChatRequest,
  type ChatStreamEvent,
  isAbortError,
  type TokenUsage,
  ZERO_USAGE,
} from "./chat-model.js";
import { ModelCallError } from "./model-call-error.js";
import { ToolCallAccumulator } from "./tool-call-accumulator.js";

export interface OpenAICompatibleModelProps {
  /** Server base URL including `/v1`. Default `ENGRAM_MODEL_BASE_URL`, else OpenAI's. */
  baseUrl?: string;
  /** Model name. Default `ENGRAM_MODEL`. Required one way or the other. */
  model?: string;
  /**
   * API key. Default `ENGRAM_MODEL_API_KEY`, else `OPENAI_API_KEY`, else a placeholder (local servers
   * such as Ollama, vLLM and llama.cpp ignore it, but the client insists on one).
   */
  apiKey?: string;
  /** Retries of 429/5xx/connection errors, with the client's backoff. Default 2. */
  maxRetries?: number;
  /** Per-request timeout in ms. Default 120000. */
  timeoutMs?: number;
  /**
   * Ask for a usage chunk at the end of streams (`stream_options.include_usage`). Default true; turn
   * off for servers that reject the option.
   */
  streamUsage?: boolean;
  /** Environment to read defaults from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Where requests go when neither `baseUrl` nor `ENGRAM_MODEL_BASE_URL` says: OpenAI's API. */
export const DEFAULT_MODEL_BASE_URL = "https://api.openai.com/v1";

/** Whether the environment names a model, i.e. whether {@link OpenAICompatibleModel} can be built from it. */
export function isModelConfigured(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return Boolean(env.ENGRAM_MODEL?.trim());
}

function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content, ...(message.name ? { name: message.name } : {}) };
    case "tool":
      return { role: "tool", content: message.content, tool_call_id: message.toolCallId ?? "" };
    case "assistant": {
      const calls = message.toolCalls ?? [];
      return {
        role: "assistant",
        content: message.content === "" && calls.length > 0 ? null : message.content,
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((c) => ({
                id: c.id,
                type: "function" as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    }
  }
}

function toUsage(
  usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined,
): TokenUsage {
  if (!usage) return { ...ZERO_USAGE };
  const promptTokens = usage.prompt_tokens ?? 0;
  const completionTokens = usage.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: usage.total_tokens ?? promptTokens + completionTokens,
  };
}

/**
 * A client of any OpenAI-compatible chat-completions server (OpenAI, Ollama, vLLM, llama.cpp) through
 * the official `openai` package. Errors come out as {@link ModelCallError} (after the client's retries),
 * aborts as an `AbortError`. Credentials stay in this object: `id` names only model and base URL.
 */
export class OpenAICompatibleModel implements ChatModel {
  readonly id: string;
  readonly model: string;
  readonly baseUrl: string;
  readonly #client: OpenAI;
  readonly #streamUsage: boolean;

  constructor(props: OpenAICompatibleModelProps = {}) {
    const env = props.env ?? process.env;
    const model = props.model ?? env.ENGRAM_MODEL?.trim();
    if (!model) {
      throw new EngramError("INVALID_CONFIG", "No model named: set props.model or ENGRAM_MODEL", {
        details: { setting: "ENGRAM_MODEL" },
      });
    }
    this.model = model;
    this.baseUrl = props.baseUrl ?? (env.ENGRAM_MODEL_BASE_URL?.trim() || DEFAULT_MODEL_BASE_URL);
    this.id = `${model}@${this.baseUrl}`;
    this.#streamUsage = props.streamUsage ?? true;
    this.#client = new OpenAI({
      baseURL: this.baseUrl,
      // Blank variables count as unset: an empty ENGRAM_MODEL_API_KEY must not shadow OPENAI_API_KEY.
      apiKey:
        props.apiKey ?? (env.ENGRAM_MODEL_API_KEY?.trim() || env.OPENAI_API_KEY?.trim() || "not-needed"),
      maxRetries: props.maxRetries ?? 2,
      timeout: props.timeoutMs ?? 120_000,
    });
  }

  #params(request: ChatRequest): ChatCompletionCreateParamsBase {
    const tools: ChatCompletionTool[] = (request.tools ?? []).map((t) => ({
      type: "function",
      function: {
        name: t.name,
        description: t.description,
        parameters: t.parameters as Record<string, unknown>,
      },
    }));
    return {
      model: this.model,
      messages: request.messages.map(toWireMessage),
      ...(tools.length > 0 ? { tools } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    };
  }

  #wrap(error: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted || isAbortError(error)) return abortError(signal);
    const status = error instanceof OpenAI.APIError ? error.status : undefined;
    return new ModelCallError(this.id, status, error);
  }

  async complete(request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatCompletion> {
    if (options.signal?.aborted) throw abortError(options.signal);
    try {
      const answer = await this.#client.chat.completions.create(
        { ...this.#params(request), stream: false },
        { signal: options.signal },
      );
      const choice = answer.choices[0];
      const calls = (choice?.message.tool_calls ?? []).flatMap((c) =>
        c.type === "function" ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
      );
      return {
        text: choice?.message.content ?? "",
        toolCalls: calls,
        usage: toUsage(answer.usage),
        finishReason: choice?.finish_reason ?? "stop",
      };
    } catch (error) {
      throw this.#wrap(error, options.signal);
    }
  }

  async *stream(request: ChatRequest, options: ChatCallOptions = {}): AsyncGenerator<ChatStreamEvent> {
    if (options.signal?.aborted) throw abortError(options.signal);
    let text = "";
    let usage: TokenUsage = { ...ZERO_USAGE };
    let finishReason = "stop";
    const calls = new ToolCallAccumulator();
    try {
      const stream = await this.#client.chat.completions.create(
        {
          ...this.#params(request),
          stream: true,
          ...(this.#streamUsage ? { stream_options: { include_usage: true } } : {}),
        },
        { signal: options.signal },
      );
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        if (chunk.usage) {
          usage = toUsage(chunk.usage);
          yield { type: "usage", usage };
        }
        const choice = chunk.choices[0];
        if (choice === undefined) continue;
        if (choice.finish_reason) finishReason = choice.finish_reason;
        const delta = choice.delta;
        if (delta.content) {
          text += delta.content;
          yield { type: "text", delta: delta.content };
        }
        for (const call of delta.tool_calls ?? []) {
          const piece = {
            id: call.id,
            name: call.function?.name,
            argumentsDelta: call.function?.arguments ?? "",
          };
          calls.add(call.index, piece);
          yield {
            type: "tool_call",
            index: call.index,
            ...(piece.id ? { id: piece.id } : {}),
            ...(piece.name ? { name: piece.name } : {}),
            argumentsDelta: piece.argumentsDelta,
          };
        }
      }
    } catch (error) {
      throw this.#wrap(error, options.signal);
    }
    if (options.signal?.aborted) throw abortError(options.signal);
    yield { type: "done", completion: { text, toolCalls: calls.result(), usage, finishReason } };
  }
}
