import {
  MEMORY_CONTEXT_CLOSE,
  MEMORY_CONTEXT_NOTE,
  MEMORY_CONTEXT_OPEN,
  sanitizeContext,
} from "@engram/core";
import {
  abortError,
  type ChatCallOptions,
  type ChatCompletion,
  type ChatModel,
  type ChatRequest,
  type ChatStreamEvent,
  type TokenUsage,
} from "./chat-model.js";

export interface OfflineModelProps {
  /** Longest quote of the user message or of recalled memory, in characters. Default 500. */
  maxQuoteChars?: number;
}

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

function quote(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The recalled text inside the `<memory-context>` fences of `content`, without the system note. */
function recalledMemory(content: string): string {
  const parts: string[] = [];
  let from = 0;
  for (;;) {
    const open = content.indexOf(MEMORY_CONTEXT_OPEN, from);
    if (open < 0) break;
    const close = content.indexOf(MEMORY_CONTEXT_CLOSE, open);
    if (close < 0) break;
    parts.push(
      content
        .slice(open + MEMORY_CONTEXT_OPEN.length, close)
        .replace(MEMORY_CONTEXT_NOTE, "")
        .trim(),
    );
    from = close + MEMORY_CONTEXT_CLOSE.length;
  }
  return parts.filter((p) => p !== "").join(" ");
}

/**
 * The model used when none is configured: deterministic, no network, honest about being offline. It
 * echoes the current user message and says what the `<memory-context>` block of that message recalled,
 * so a person can watch memory work without an API key. It never calls tools.
 */
export class OfflineModel implements ChatModel {
  readonly id = "offline";
  readonly #max: number;

  constructor(props: OfflineModelProps = {}) {
    this.#max = props.maxQuoteChars ?? 500;
  }

  /** The reply to `request`, exactly as `complete` returns it. */
  reply(request: ChatRequest): string {
    const user = [...request.messages].reverse().find((m) => m.role === "user");
    const content = user?.content ?? "";
    const said = quote(sanitizeContext(content), this.#max);
    const recalled = quote(recalledMemory(content), this.#max);
    const memory =
      recalled === "" ? "Nothing was recalled from memory." : `From memory I recall: ${recalled}`;
    return `[offline model] You said: ${said === "" ? "(nothing)" : said} — ${memory}`;
  }

  async complete(request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatCompletion> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const text = this.reply(request);
    return { text, toolCalls: [], usage: this.#usage(request, text), finishReason: "stop" };
  }

  async *stream(request: ChatRequest, options: ChatCallOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const text = this.reply(request);
    // Word by word, keeping the whitespace with the word before it, so the deltas concatenate exactly.
    for (const word of text.match(/\S+\s*/g) ?? []) {
      if (options.signal?.aborted) throw abortError(options.signal);
      yield { type: "text", delta: word };
      await Promise.resolve();
    }
    if (options.signal?.aborted) throw abortError(options.signal);
    const usage = this.#usage(request, text);
    yield { type: "usage", usage };
    yield { type: "done", completion: { text, toolCalls: [], usage, finishReason: "stop" } };
  }

  #usage(request: ChatRequest, text: string): TokenUsage {
    const promptTokens = request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
    const completionTokens = estimateTokens(text);
    return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
  }
}
